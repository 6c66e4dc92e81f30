using System.Globalization;

namespace DatacenterOs.Kernel;

/// <summary>Kind of value a resource holds (Mesos <c>Value.Type</c>).</summary>
public enum ResourceType
{
    /// <summary>A non-negative number: <c>cpus</c> (fractional cores), <c>mem</c>/<c>disk</c> (MiB), <c>gpus</c>.</summary>
    Scalar,

    /// <summary>Integer ranges, e.g. <c>ports:[31000-32000]</c>.</summary>
    Ranges,

    /// <summary>A set of strings, e.g. <c>zones:{a,b}</c>.</summary>
    Set,
}

/// <summary>
/// One named resource with one reservation: <c>cpus(web):2</c> is the scalar <c>cpus</c> of 2 cores reserved to
/// role <c>web</c>; <c>ports:[31000-32000]</c> is unreserved. Immutable.
/// Scalars are fixed-point with three decimal places, as Mesos <c>Value.Scalar</c> (<c>src/common/values.cpp</c>),
/// so <c>0.1 + 0.2 == 0.3</c> exactly.
/// </summary>
public sealed class Resource : IEquatable<Resource>
{
    private Resource(string name, string? role, ResourceType type, long millis, ValueRanges? ranges, string[]? set)
    {
        Name = name;
        Role = role;
        Type = type;
        ScalarMillis = millis;
        Ranges = ranges ?? ValueRanges.Empty;
        SetItems = set ?? [];
    }

    /// <summary>Resource name, e.g. <c>cpus</c>, <c>mem</c>, <c>disk</c>, <c>gpus</c>, <c>ports</c>.</summary>
    public string Name { get; }

    /// <summary>The role the resource is reserved to, or null when unreserved (written <c>*</c> in text).</summary>
    public string? Role { get; }

    /// <summary>True when reserved to a role.</summary>
    public bool IsReserved => Role is not null;

    /// <summary>Kind of value.</summary>
    public ResourceType Type { get; }

    /// <summary>Scalar value in thousandths (e.g. 1500 for 1.5 cpus). Zero for non-scalars.</summary>
    public long ScalarMillis { get; }

    /// <summary>Scalar value (fractional cores for cpus, MiB for mem and disk). Zero for non-scalars.</summary>
    public double Scalar => ScalarMillis / 1000.0;

    /// <summary>Ranges value; empty for other types.</summary>
    public ValueRanges Ranges { get; }

    /// <summary>Set value, sorted ordinally; empty for other types.</summary>
    public IReadOnlyList<string> SetItems { get; }

    internal string[] SetArray => (string[])SetItems;

    /// <summary>True when the value is zero, empty ranges or an empty set.</summary>
    public bool IsEmpty => Type switch
    {
        ResourceType.Scalar => ScalarMillis == 0,
        ResourceType.Ranges => Ranges.IsEmpty,
        _ => SetItems.Count == 0,
    };

    /// <summary>Creates a scalar resource; <paramref name="value"/> is rounded to three decimal places.</summary>
    /// <exception cref="ArgumentException">The name or role is invalid, or the value is negative or not finite.</exception>
    public static Resource CreateScalar(string name, double value, string? role = null) =>
        CreateScalarMillis(name, ToMillis(value, name), role);

    /// <summary>Creates a scalar resource from thousandths.</summary>
    /// <exception cref="ArgumentException">The name or role is invalid, or the value is negative.</exception>
    public static Resource CreateScalarMillis(string name, long millis, string? role = null)
    {
        if (millis < 0)
        {
            throw new ArgumentException($"resource '{name}' must not be negative", nameof(millis));
        }

        return new Resource(CheckName(name), NormalizeRole(role), ResourceType.Scalar, millis, null, null);
    }

    /// <summary>Creates a ranges resource.</summary>
    /// <exception cref="ArgumentException">The name or role is invalid.</exception>
    public static Resource CreateRanges(string name, ValueRanges ranges, string? role = null)
    {
        ArgumentNullException.ThrowIfNull(ranges);
        return new Resource(CheckName(name), NormalizeRole(role), ResourceType.Ranges, 0, ranges, null);
    }

    /// <summary>Creates a set resource.</summary>
    /// <exception cref="ArgumentException">The name or role is invalid, or an item is empty.</exception>
    public static Resource CreateSet(string name, IEnumerable<string> items, string? role = null)
    {
        var set = items.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        foreach (var item in set)
        {
            if (string.IsNullOrWhiteSpace(item))
            {
                throw new ArgumentException($"resource '{name}' has an empty set item", nameof(items));
            }

            if (item.AsSpan().IndexOfAny(",;{}") >= 0 || item.Trim().Length != item.Length)
            {
                throw new ArgumentException($"set item '{item}' of resource '{name}' must not contain ',', ';', '{{', '}}' or surrounding spaces", nameof(items));
            }
        }

        return new Resource(CheckName(name), NormalizeRole(role), ResourceType.Set, 0, null, set);
    }

    /// <summary>The same value reserved to <paramref name="role"/> (null or <c>*</c>: unreserved).</summary>
    public Resource WithRole(string? role) =>
        new(Name, NormalizeRole(role), Type, ScalarMillis, Ranges, Type == ResourceType.Set ? SetArray : null);

    internal Resource WithMillis(long millis) => new(Name, Role, Type, millis, null, null);

    internal Resource WithRanges(ValueRanges ranges) => new(Name, Role, Type, 0, ranges, null);

    internal Resource WithSet(string[] set) => new(Name, Role, Type, 0, null, set);

    /// <summary>Mesos text form, e.g. <c>cpus(web):2</c>, <c>mem:1024</c>, <c>ports:[31000-32000]</c>, <c>zones:{a,b}</c>.</summary>
    public override string ToString()
    {
        var head = Role is null ? Name : Name + "(" + Role + ")";
        return head + ":" + ValueToString();
    }

    /// <summary>The value alone in Mesos text form (<c>2</c>, <c>[1-5]</c>, <c>{a,b}</c>).</summary>
    public string ValueToString() => Type switch
    {
        ResourceType.Scalar => FormatMillis(ScalarMillis),
        ResourceType.Ranges => Ranges.ToString(),
        _ => "{" + string.Join(',', SetItems) + "}",
    };

    /// <inheritdoc />
    public bool Equals(Resource? other) =>
        other is not null
        && (ReferenceEquals(this, other)
            || (Type == other.Type
                && ScalarMillis == other.ScalarMillis
                && string.Equals(Name, other.Name, StringComparison.Ordinal)
                && string.Equals(Role, other.Role, StringComparison.Ordinal)
                && Ranges.Equals(other.Ranges)
                && SetArray.AsSpan().SequenceEqual(other.SetArray)));

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as Resource);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Name, Role, Type, ScalarMillis, Ranges);

    /// <summary>Formats thousandths as a number with at most three decimals (<c>1500</c> → <c>1.5</c>).</summary>
    public static string FormatMillis(long millis) =>
        (millis % 1000 == 0 ? (millis / 1000).ToString(CultureInfo.InvariantCulture) : (millis / 1000m).ToString("0.###", CultureInfo.InvariantCulture));

    /// <summary>Converts a scalar to thousandths, rounding half away from zero as Mesos does.</summary>
    /// <exception cref="ArgumentException">The value is negative, not finite or too large.</exception>
    public static long ToMillis(double value, string name = "value")
    {
        if (!double.IsFinite(value) || value < 0 || value > 9e12)
        {
            throw new ArgumentException($"resource '{name}' must be a finite number >= 0 and <= 9e12, not {value.ToString(CultureInfo.InvariantCulture)}", nameof(value));
        }

        return (long)Math.Round(value * 1000.0, MidpointRounding.AwayFromZero);
    }

    internal static string? NormalizeRole(string? role)
    {
        if (role is null || role == RolePath.Default)
        {
            return null;
        }

        return RolePath.Require(role);
    }

    internal static string? ValidateName(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return "resource name must not be empty";
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or '/'))
            {
                return $"resource name '{name}' may contain only letters, digits, '_', '-', '.' and '/'";
            }
        }

        return null;
    }

    private static string CheckName(string name)
    {
        var error = ValidateName(name);
        return error is null ? name : throw new ArgumentException(error, nameof(name));
    }
}
