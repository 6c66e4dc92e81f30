using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace DatacenterOs.Apps.Core;

/// <summary>Placement constraint operators (Marathon <c>docs/docs/constraints.md</c>, RAML <c>ConstraintOperator</c>).</summary>
public enum ConstraintOperator
{
    /// <summary>At most one instance per distinct value of the field.</summary>
    Unique,

    /// <summary>All instances on agents with the same value (the given one, or that of the first placed instance).</summary>
    Cluster,

    /// <summary>Spread instances evenly over the values (optionally: over at least N distinct values).</summary>
    GroupBy,

    /// <summary>Only agents whose value fully matches the regular expression.</summary>
    Like,

    /// <summary>Only agents whose value does not fully match the regular expression (or lack the attribute).</summary>
    Unlike,

    /// <summary>At most N instances per distinct value.</summary>
    MaxPer,

    /// <summary>Only agents whose value equals the given text (scalars compared to three decimals).</summary>
    Is,
}

/// <summary>
/// A parsed placement constraint <c>[field, OPERATOR(, value)]</c>. The field is <c>hostname</c> (or
/// <c>@hostname</c>), <c>@region</c>, <c>@zone</c> or the name of an agent attribute. Parsing applies Marathon's
/// rules and messages (<c>SchedulingValidation.complyWithAppConstraintRules</c>); operators are case-insensitive.
/// </summary>
public sealed record Constraint
{
    /// <summary>Marathon's message for a constraint with fewer than 2 or more than 3 elements.</summary>
    public const string WrongArityMessage = "Each constraint must have either 2 or 3 fields";

    /// <summary>Marathon's message for an empty field name.</summary>
    public const string IllegalSpecificationMessage = "illegal constraint specification";

    /// <summary>Marathon's message for an unknown operator.</summary>
    public const string UnknownOperatorMessage =
        "operator must be one of the following UNIQUE, CLUSTER, GROUP_BY, LIKE, MAX_PER, UNLIKE or IS";

    /// <summary>Marathon's message for UNIQUE with a value.</summary>
    public const string UniqueValueMessage = "UNIQUE does not accept a value";

    /// <summary>Marathon's message for GROUP_BY with a non-integer value.</summary>
    public const string GroupByValueMessage = "GROUP BY must define an integer value or else no value at all";

    /// <summary>Marathon's message for MAX_PER without an integer value.</summary>
    public const string MaxPerValueMessage = "MAX_PER requires an integer value";

    /// <summary>Marathon's message for LIKE/UNLIKE without a value.</summary>
    public const string LikeValueMessage = "LIKE and UNLIKE require a non-empty, regular expression value";

    /// <summary>Marathon's message for LIKE/UNLIKE with a value that does not compile.</summary>
    public const string InvalidRegexMessage = "is not a valid regular expression";

    /// <summary>Marathon's message for IS with a value that is not Mesos text or a scalar.</summary>
    public const string IsValueMessage =
        "IS only supports Mesos text and float values (see http://mesos.apache.org/documentation/latest/attributes-resources/)";

    private static readonly TimeSpan RegexTimeout = TimeSpan.FromSeconds(1);

    /// <summary>Creates a constraint (not validated: use <see cref="TryParse"/> for user input).</summary>
    public Constraint(string field, ConstraintOperator @operator, string? value = null)
    {
        ArgumentNullException.ThrowIfNull(field);
        Field = field;
        Operator = @operator;
        Value = value;
    }

    /// <summary>The field: <c>hostname</c>, <c>@hostname</c>, <c>@region</c>, <c>@zone</c> or an attribute name.</summary>
    public string Field { get; }

    /// <summary>The operator.</summary>
    public ConstraintOperator Operator { get; }

    /// <summary>The value, when given.</summary>
    public string? Value { get; }

    /// <summary>The value as an integer (GROUP_BY, MAX_PER), when it is one.</summary>
    public int? IntValue => ParseInt(Value);

    /// <summary>The operator as Marathon spells it (<c>GROUP_BY</c>, <c>MAX_PER</c>, …).</summary>
    public static string OperatorName(ConstraintOperator op) => op switch
    {
        ConstraintOperator.Unique => "UNIQUE",
        ConstraintOperator.Cluster => "CLUSTER",
        ConstraintOperator.GroupBy => "GROUP_BY",
        ConstraintOperator.Like => "LIKE",
        ConstraintOperator.Unlike => "UNLIKE",
        ConstraintOperator.MaxPer => "MAX_PER",
        ConstraintOperator.Is => "IS",
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    /// <summary>Parses an operator name, case-insensitively.</summary>
    public static bool TryParseOperator(string? text, out ConstraintOperator op)
    {
        switch (text?.ToUpperInvariant())
        {
            case "UNIQUE": op = ConstraintOperator.Unique; return true;
            case "CLUSTER": op = ConstraintOperator.Cluster; return true;
            case "GROUP_BY": op = ConstraintOperator.GroupBy; return true;
            case "LIKE": op = ConstraintOperator.Like; return true;
            case "UNLIKE": op = ConstraintOperator.Unlike; return true;
            case "MAX_PER": op = ConstraintOperator.MaxPer; return true;
            case "IS": op = ConstraintOperator.Is; return true;
            default: op = default; return false;
        }
    }

    /// <summary>
    /// Parses and validates <c>[field, OPERATOR(, value)]</c>. On failure <paramref name="error"/> is Marathon's message.
    /// </summary>
    public static bool TryParse(
        IReadOnlyList<string> raw,
        [NotNullWhen(true)] out Constraint? constraint,
        [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(raw);
        constraint = null;
        if (raw.Count is < 2 or > 3)
        {
            error = WrongArityMessage;
            return false;
        }

        var field = raw[0];
        var value = raw.Count == 3 ? raw[2] : null;
        if (string.IsNullOrEmpty(field))
        {
            error = IllegalSpecificationMessage;
            return false;
        }

        if (!TryParseOperator(raw[1], out var op))
        {
            error = UnknownOperatorMessage;
            return false;
        }

        error = op switch
        {
            ConstraintOperator.Unique when value is not null => UniqueValueMessage,
            ConstraintOperator.GroupBy when value is not null && ParseInt(value) is null => GroupByValueMessage,
            ConstraintOperator.MaxPer when ParseInt(value) is null => MaxPerValueMessage,
            ConstraintOperator.Like or ConstraintOperator.Unlike when string.IsNullOrEmpty(value) => LikeValueMessage,
            ConstraintOperator.Like or ConstraintOperator.Unlike when !IsValidRegex(value!) => InvalidRegexMessage,
            ConstraintOperator.Is when !IsLiteralOrScalar(value ?? string.Empty) => IsValueMessage,
            _ => null,
        };
        if (error is not null)
        {
            return false;
        }

        constraint = new Constraint(field, op, value);
        return true;
    }

    /// <summary>Parses and validates, throwing on invalid input.</summary>
    /// <exception cref="FormatException">The constraint breaks a rule; the message is Marathon's.</exception>
    public static Constraint Parse(IReadOnlyList<string> raw) =>
        TryParse(raw, out var constraint, out var error) ? constraint : throw new FormatException(error);

    /// <summary>Parses <c>field:OPERATOR[:value]</c> (the form of Marathon's CLI and UI).</summary>
    /// <exception cref="FormatException">The constraint breaks a rule.</exception>
    public static Constraint Parse(string colonSeparated)
    {
        ArgumentNullException.ThrowIfNull(colonSeparated);
        return Parse(colonSeparated.Split(':', 3));
    }

    /// <summary>The JSON form <c>[field, OPERATOR(, value)]</c>.</summary>
    public ValueList<string> ToRaw() =>
        Value is null ? [Field, OperatorName(Operator)] : [Field, OperatorName(Operator), Value];

    /// <summary>The JSON text of <see cref="ToRaw"/>, e.g. <c>["hostname","UNIQUE"]</c>.</summary>
    public override string ToString() => JsonSerializer.Serialize(ToRaw(), AppsJson.Options);

    /// <summary>True when <paramref name="value"/> fully matches <paramref name="pattern"/> (Java <c>matches()</c> semantics).</summary>
    internal static bool FullMatch(string value, string pattern) =>
        Regex.IsMatch(value, @"\A(?:" + pattern + @")\z", RegexOptions.CultureInvariant, RegexTimeout);

    private static bool IsValidRegex(string pattern)
    {
        try
        {
            _ = new Regex(pattern, RegexOptions.CultureInvariant, RegexTimeout);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static bool IsLiteralOrScalar(string value) => value.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '/' or '.' or '-');

    private static int? ParseInt(string? value) =>
        int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? n : null;
}

/// <summary>
/// An agent as constraints see it: its hostname and its attributes (values in Mesos text form: text as is, scalars
/// as numbers, ranges <c>[a-b]</c>, sets <c>{a,b}</c>), plus the optional fault domain.
/// </summary>
/// <param name="Hostname">The agent's hostname.</param>
/// <param name="Attributes">Attributes by name.</param>
/// <param name="Region">Fault-domain region (<c>@region</c>).</param>
/// <param name="Zone">Fault-domain zone (<c>@zone</c>).</param>
public sealed record AgentInfo(
    string Hostname,
    IReadOnlyDictionary<string, string>? Attributes = null,
    string? Region = null,
    string? Zone = null)
{
    /// <summary>The value of a constraint field on this agent, or null when the agent lacks it.</summary>
    public string? ValueOf(string field)
    {
        ArgumentNullException.ThrowIfNull(field);
        return field switch
        {
            "hostname" or "@hostname" => Hostname,
            "@region" => Region,
            "@zone" => Zone,
            _ => Attributes is not null && Attributes.TryGetValue(field, out var v) ? v : null,
        };
    }
}

/// <summary>The outcome of checking a candidate agent against an app's constraints.</summary>
public sealed record PlacementDecision
{
    private PlacementDecision(Constraint? refusedBy, string? reason)
    {
        RefusedBy = refusedBy;
        Reason = reason;
    }

    /// <summary>The decision that allows the placement.</summary>
    public static PlacementDecision Accepted { get; } = new(null, null);

    /// <summary>True when a new instance may go to the candidate.</summary>
    public bool IsAccepted => RefusedBy is null;

    /// <summary>The first constraint that refused the candidate.</summary>
    public Constraint? RefusedBy { get; }

    /// <summary>Why, in words (e.g. <c>["hostname","UNIQUE"] not satisfied on a1: an instance already runs where hostname is "a1"</c>).</summary>
    public string? Reason { get; }

    /// <summary>A refusal.</summary>
    public static PlacementDecision Refused(Constraint constraint, string reason)
    {
        ArgumentNullException.ThrowIfNull(constraint);
        ArgumentNullException.ThrowIfNull(reason);
        return new(constraint, reason);
    }
}

/// <summary>
/// Decides whether one more instance of an app may be placed on a candidate agent, given where the app's current
/// instances run (semantics of Marathon <c>mesosphere.mesos.Constraints.meetsConstraint</c>). Constraints are checked
/// in order; the first one not met refuses the candidate. An agent lacking the field meets only UNLIKE; placed
/// instances on agents lacking the field are ignored when counting.
/// </summary>
public static class ConstraintEvaluator
{
    /// <summary>Checks all <paramref name="constraints"/>.</summary>
    public static PlacementDecision Evaluate(
        IEnumerable<Constraint> constraints, AgentInfo candidate, IReadOnlyCollection<AgentInfo> placed)
    {
        ArgumentNullException.ThrowIfNull(constraints);
        foreach (var constraint in constraints)
        {
            var why = Check(constraint, candidate, placed);
            if (why is not null)
            {
                return PlacementDecision.Refused(constraint, $"{constraint} not satisfied on {candidate.Hostname}: {why}");
            }
        }

        return PlacementDecision.Accepted;
    }

    /// <summary>Checks the constraints of <paramref name="app"/> (which must be valid).</summary>
    /// <exception cref="ArgumentException">A constraint of the app is invalid.</exception>
    public static PlacementDecision Evaluate(AppDefinition app, AgentInfo candidate, IReadOnlyCollection<AgentInfo> placed)
    {
        ArgumentNullException.ThrowIfNull(app);
        var constraints = new List<Constraint>(app.Constraints.Count);
        foreach (var raw in app.Constraints)
        {
            if (!Constraint.TryParse(raw, out var c, out var error))
            {
                throw new ArgumentException($"invalid constraint {JsonSerializer.Serialize(raw, AppsJson.Options)}: {error}", nameof(app));
            }

            constraints.Add(c);
        }

        return Evaluate(constraints, candidate, placed);
    }

    /// <summary>Null when <paramref name="constraint"/> allows the placement, else the reason it does not.</summary>
    public static string? Check(Constraint constraint, AgentInfo candidate, IReadOnlyCollection<AgentInfo> placed)
    {
        ArgumentNullException.ThrowIfNull(constraint);
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(placed);

        var field = constraint.Field;
        var value = candidate.ValueOf(field);
        if (value is null)
        {
            return constraint.Operator == ConstraintOperator.Unlike ? null : $"the agent has no attribute \"{field}\"";
        }

        var placedValues = placed.Select(p => p.ValueOf(field)).OfType<string>().ToList();
        var sameValue = placedValues.Count(v => string.Equals(v, value, StringComparison.Ordinal));

        switch (constraint.Operator)
        {
            case ConstraintOperator.Unique:
                return sameValue == 0 ? null : $"an instance already runs where {field} is \"{value}\"";

            case ConstraintOperator.Cluster:
                if (!string.IsNullOrEmpty(constraint.Value))
                {
                    return string.Equals(value, constraint.Value, StringComparison.Ordinal)
                        ? null
                        : $"{field} is \"{value}\", but the app is clustered on \"{constraint.Value}\"";
                }

                var other = placedValues.FirstOrDefault(v => !string.Equals(v, value, StringComparison.Ordinal));
                return other is null
                    ? null
                    : $"{field} is \"{value}\", but the app's instances run where {field} is \"{other}\"";

            case ConstraintOperator.GroupBy:
                return CheckGroupBy(constraint, field, value, placedValues);

            case ConstraintOperator.Like or ConstraintOperator.Unlike:
                bool matches;
                try
                {
                    matches = Constraint.FullMatch(value, constraint.Value ?? string.Empty);
                }
                catch (RegexMatchTimeoutException)
                {
                    // A pathological expression refuses the agent rather than stalling the placement loop.
                    return $"matching {field} \"{value}\" against the regular expression \"{constraint.Value}\" timed out";
                }

                return (constraint.Operator, matches) switch
                {
                    (ConstraintOperator.Like, false) => $"{field} \"{value}\" does not match the regular expression \"{constraint.Value}\"",
                    (ConstraintOperator.Unlike, true) => $"{field} \"{value}\" matches the regular expression \"{constraint.Value}\"",
                    _ => null,
                };

            case ConstraintOperator.MaxPer:
                var max = constraint.IntValue ?? 0;
                return sameValue < max
                    ? null
                    : $"{sameValue} instance{(sameValue == 1 ? string.Empty : "s")} already run where {field} is \"{value}\" (at most {max} allowed)";

            case ConstraintOperator.Is:
                var expected = constraint.Value ?? string.Empty;
                return IsEqual(value, expected) ? null : $"{field} is \"{value}\", not \"{expected}\"";

            default:
                throw new ArgumentOutOfRangeException(nameof(constraint));
        }
    }

    // Marathon Constraints.checkGroupBy: a value not used yet is always fine; a used one only when at least the
    // expected number of distinct values is used and it is (one of) the least used.
    private static string? CheckGroupBy(Constraint constraint, string field, string value, List<string> placedValues)
    {
        var minimumGroups = Math.Max(0, constraint.IntValue ?? 0);
        var groups = placedValues.GroupBy(v => v, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        if (!groups.TryGetValue(value, out var count))
        {
            return null;
        }

        if (groups.Count < minimumGroups)
        {
            return $"{field} \"{value}\" is already used while only {groups.Count} of at least {minimumGroups} distinct values are; "
                + "the next instance must go to a new value";
        }

        var least = groups.Values.Min();
        return count == least
            ? null
            : $"{field} \"{value}\" already has {count} instance{(count == 1 ? string.Empty : "s")} while the least used value has {least}";
    }

    // IS: text equality, scalars compared to three decimals (Marathon rounds to the Mesos scalar precision).
    private static bool IsEqual(string actual, string expected)
    {
        if (string.Equals(actual, expected, StringComparison.Ordinal))
        {
            return true;
        }

        return double.TryParse(actual, NumberStyles.Float, CultureInfo.InvariantCulture, out var a)
            && double.TryParse(expected, NumberStyles.Float, CultureInfo.InvariantCulture, out var e)
            && Math.Round(a * 1000) == Math.Round(e * 1000);
    }
}
