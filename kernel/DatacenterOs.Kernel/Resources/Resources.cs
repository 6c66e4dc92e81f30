using System.Collections;
using System.Globalization;

namespace DatacenterOs.Kernel;

/// <summary>
/// An immutable bag of resources, the Mesos <c>Resources</c> type: scalars (<c>cpus</c> in fractional cores,
/// <c>mem</c> and <c>disk</c> in MiB, <c>gpus</c>), ranges (<c>ports</c>) and sets, each unreserved or reserved to a role.
/// Entries with the same name and reservation are merged, so <c>cpus:1;cpus:2</c> is <c>cpus:3</c>.
/// Text form as Mesos <c>Resources::parse</c> (<c>src/common/resources.cpp</c>):
/// <c>cpus(web):2;mem(web):1024;cpus(*):4;mem(*):4096;ports(*):[31000-32000];zones:{a,b}</c>.
/// </summary>
public sealed class Resources : IReadOnlyList<Resource>, IEquatable<Resources>
{
    private readonly Resource[] _items;

    /// <summary>No resources.</summary>
    public static Resources Empty { get; } = new([]);

    private Resources(Resource[] sortedMerged) => _items = sortedMerged;

    /// <summary>Builds a bag from any resources; same name and reservation are merged, empty values dropped.</summary>
    /// <exception cref="ArgumentException">Two entries share a name and reservation but differ in type.</exception>
    public static Resources Of(params IEnumerable<Resource> resources)
    {
        var list = resources.Where(r => !r.IsEmpty).ToList();
        list.Sort(CompareKey);
        var merged = new List<Resource>(list.Count);
        foreach (var r in list)
        {
            if (merged.Count > 0 && CompareKey(merged[^1], r) == 0)
            {
                merged[^1] = Combine(merged[^1], r);
            }
            else
            {
                merged.Add(r);
            }
        }

        return new Resources([.. merged]);
    }

    /// <summary>
    /// Parses Mesos resource text: entries <c>name[(role)]:value</c> separated by <c>;</c>, where value is a
    /// scalar (<c>2</c>, <c>0.5</c>), ranges (<c>[31000-32000,33000-33100]</c>) or a set (<c>{a,b}</c>); role <c>*</c>
    /// or no role means unreserved. Whitespace around tokens is ignored; the empty string is no resources.
    /// </summary>
    /// <exception cref="ResourceParseException">The text is malformed; <see cref="ResourceParseException.Token"/> names the entry.</exception>
    public static Resources Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var list = new List<Resource>();
        foreach (var raw in text.Split(';'))
        {
            var token = raw.Trim();
            if (token.Length == 0)
            {
                continue;
            }

            list.Add(ParseOne(token));
        }

        try
        {
            return Of(list);
        }
        catch (ArgumentException e)
        {
            throw new ResourceParseException(text, e.Message);
        }
    }

    /// <summary>Parses like <see cref="Parse"/>, returning false and the error instead of throwing.</summary>
    public static bool TryParse(string text, out Resources resources, out string? error)
    {
        try
        {
            resources = Parse(text);
            error = null;
            return true;
        }
        catch (ResourceParseException e)
        {
            resources = Empty;
            error = e.Message;
            return false;
        }
    }

    /// <summary>Number of distinct (name, reservation) entries.</summary>
    public int Count => _items.Length;

    /// <summary>True when there is nothing.</summary>
    public bool IsEmpty => _items.Length == 0;

    /// <summary>The entry at <paramref name="index"/>, in canonical order (unreserved first, then by role; cpus, gpus, mem, disk, ports, then by name).</summary>
    public Resource this[int index] => _items[index];

    internal ReadOnlySpan<Resource> Items => _items;

    /// <summary>Wraps entries that are already in canonical order and merged (callers in this assembly only).</summary>
    internal static Resources FromSorted(List<Resource> sortedMerged) =>
        sortedMerged.Count == 0 ? Empty : new Resources([.. sortedMerged]);

    /// <summary>Total <c>cpus</c> over all reservations, in fractional cores.</summary>
    public double Cpus => Scalar("cpus");

    /// <summary>Total <c>mem</c> over all reservations, in MiB.</summary>
    public double Mem => Scalar("mem");

    /// <summary>Total <c>disk</c> over all reservations, in MiB.</summary>
    public double Disk => Scalar("disk");

    /// <summary>Total <c>gpus</c> over all reservations.</summary>
    public double Gpus => Scalar("gpus");

    /// <summary>All <c>ports</c> over all reservations.</summary>
    public ValueRanges Ports => RangesOf("ports");

    /// <summary>Sum of the scalar <paramref name="name"/> over all reservations.</summary>
    public double Scalar(string name) => ScalarMillis(name) / 1000.0;

    /// <summary>Sum of the scalar <paramref name="name"/> over all reservations, in thousandths.</summary>
    public long ScalarMillis(string name)
    {
        long sum = 0;
        foreach (var r in _items)
        {
            if (r.Type == ResourceType.Scalar && string.Equals(r.Name, name, StringComparison.Ordinal))
            {
                sum += r.ScalarMillis;
            }
        }

        return sum;
    }

    /// <summary>Union of the ranges named <paramref name="name"/> over all reservations.</summary>
    public ValueRanges RangesOf(string name)
    {
        var result = ValueRanges.Empty;
        foreach (var r in _items)
        {
            if (r.Type == ResourceType.Ranges && string.Equals(r.Name, name, StringComparison.Ordinal))
            {
                result = result.Union(r.Ranges);
            }
        }

        return result;
    }

    /// <summary>Scalar quantities summed over reservations (Mesos <c>ResourceQuantities</c>); non-scalars are left out.</summary>
    public ResourceQuantities ToQuantities()
    {
        var builder = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var r in _items)
        {
            if (r.Type == ResourceType.Scalar)
            {
                builder[r.Name] = builder.GetValueOrDefault(r.Name) + r.ScalarMillis;
            }
        }

        return ResourceQuantities.FromMillis(builder);
    }

    /// <summary>The unreserved entries.</summary>
    public Resources Unreserved() => Where(static r => !r.IsReserved);

    /// <summary>All reserved entries, whatever their role.</summary>
    public Resources Reserved() => Where(static r => r.IsReserved);

    /// <summary>Entries reserved to exactly <paramref name="role"/>.</summary>
    public Resources ReservedTo(string role) => Where(r => string.Equals(r.Role, role, StringComparison.Ordinal));

    /// <summary>
    /// Entries a framework in <paramref name="role"/> may be offered: unreserved ones, and those reserved to
    /// <paramref name="role"/> or one of its ancestors (Mesos <c>Resources::isAllocatableTo</c>).
    /// </summary>
    public Resources AllocatableTo(string role) =>
        Where(r => r.Role is null || RolePath.IsWithin(role, r.Role));

    /// <summary>The scalar entries.</summary>
    public Resources Scalars() => Where(static r => r.Type == ResourceType.Scalar);

    /// <summary>The ranges and set entries.</summary>
    public Resources NonScalars() => Where(static r => r.Type != ResourceType.Scalar);

    /// <summary>The entries matching <paramref name="predicate"/>.</summary>
    public Resources Where(Func<Resource, bool> predicate)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        List<Resource>? kept = null;
        for (var i = 0; i < _items.Length; i++)
        {
            var keep = predicate(_items[i]);
            if (!keep && kept is null)
            {
                kept = new List<Resource>(_items.Length);
                kept.AddRange(_items.AsSpan(0, i));
            }
            else if (keep)
            {
                kept?.Add(_items[i]);
            }
        }

        return kept is null ? this : (kept.Count == 0 ? Empty : new Resources([.. kept]));
    }

    /// <summary>The same values, all reserved to <paramref name="role"/> (null or <c>*</c>: all unreserved).</summary>
    public Resources WithRole(string? role) => Of(_items.Select(r => r.WithRole(role)));

    /// <summary>The same values, unreserved.</summary>
    public Resources ToUnreserved() => WithRole(null);

    /// <summary>Sum: scalars add, ranges and sets unite. Mesos <c>Resources::operator+</c>.</summary>
    /// <exception cref="ArgumentException">An entry has the same name and reservation as one of a different type.</exception>
    public Resources Add(Resources other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.IsEmpty)
        {
            return this;
        }

        if (IsEmpty)
        {
            return other;
        }

        var result = new List<Resource>(_items.Length + other._items.Length);
        int i = 0, j = 0;
        while (i < _items.Length || j < other._items.Length)
        {
            var c = i >= _items.Length ? 1 : j >= other._items.Length ? -1 : CompareKey(_items[i], other._items[j]);
            if (c < 0)
            {
                result.Add(_items[i++]);
            }
            else if (c > 0)
            {
                result.Add(other._items[j++]);
            }
            else
            {
                result.Add(Combine(_items[i++], other._items[j++]));
            }
        }

        return new Resources([.. result]);
    }

    /// <summary>Difference; <paramref name="other"/> must be contained in this bag (see <see cref="Contains(Resources)"/>).</summary>
    /// <exception cref="InvalidOperationException"><paramref name="other"/> is not contained; the message names the first missing entry.</exception>
    public Resources Subtract(Resources other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.IsEmpty)
        {
            return this;
        }

        var result = new List<Resource>(_items.Length);
        int i = 0, j = 0;
        while (j < other._items.Length)
        {
            var b = other._items[j];
            while (i < _items.Length && CompareKey(_items[i], b) < 0)
            {
                result.Add(_items[i++]);
            }

            if (i >= _items.Length || CompareKey(_items[i], b) != 0 || !EntryContains(_items[i], b))
            {
                throw new InvalidOperationException($"cannot subtract '{b}' from '{this}': not contained");
            }

            var diff = Difference(_items[i++], b);
            if (!diff.IsEmpty)
            {
                result.Add(diff);
            }

            j++;
        }

        while (i < _items.Length)
        {
            result.Add(_items[i++]);
        }

        return result.Count == 0 ? Empty : new Resources([.. result]);
    }

    /// <summary>
    /// True when every entry of <paramref name="other"/> is covered by the entry with the same name and
    /// reservation here: scalar ≥, ranges and sets superset. Mesos <c>Resources::contains</c>.
    /// </summary>
    public bool Contains(Resources other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (ReferenceEquals(this, other) || other.IsEmpty)
        {
            return true;
        }

        if (other._items.Length > _items.Length)
        {
            return false;
        }

        var i = 0;
        foreach (var b in other._items)
        {
            int c = -1;
            while (i < _items.Length && (c = CompareKey(_items[i], b)) < 0)
            {
                i++;
            }

            if (i >= _items.Length || c != 0 || !EntryContains(_items[i], b))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Sum of two bags.</summary>
    public static Resources operator +(Resources left, Resources right) => left.Add(right);

    /// <summary>Difference of two bags; throws when <paramref name="right"/> is not contained in <paramref name="left"/>.</summary>
    /// <exception cref="InvalidOperationException">Not contained.</exception>
    public static Resources operator -(Resources left, Resources right) => left.Subtract(right);

    /// <summary>Value equality.</summary>
    public static bool operator ==(Resources? left, Resources? right) => left is null ? right is null : left.Equals(right);

    /// <summary>Value inequality.</summary>
    public static bool operator !=(Resources? left, Resources? right) => !(left == right);

    /// <inheritdoc />
    public bool Equals(Resources? other)
    {
        if (other is null)
        {
            return false;
        }

        if (ReferenceEquals(this, other))
        {
            return true;
        }

        if (other._items.Length != _items.Length)
        {
            return false;
        }

        for (var i = 0; i < _items.Length; i++)
        {
            if (!_items[i].Equals(other._items[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as Resources);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var r in _items)
        {
            h.Add(r);
        }

        return h.ToHashCode();
    }

    /// <summary>Mesos text form, entries joined by <c>;</c>, e.g. <c>cpus:4;mem:4096;ports:[31000-32000];cpus(web):2</c>.</summary>
    public override string ToString() => string.Join(';', _items.Select(static r => r.ToString()));

    /// <inheritdoc />
    public IEnumerator<Resource> GetEnumerator() => ((IEnumerable<Resource>)_items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => _items.GetEnumerator();

    /// <summary>Canonical entry order: unreserved first, then roles ordinally; within a role by well-known name, then ordinal name.</summary>
    internal static int CompareKey(Resource a, Resource b)
    {
        if (!ReferenceEquals(a.Role, b.Role))
        {
            if (a.Role is null)
            {
                return -1;
            }

            if (b.Role is null)
            {
                return 1;
            }

            var rc = string.CompareOrdinal(a.Role, b.Role);
            if (rc != 0)
            {
                return rc;
            }
        }

        return CompareName(a.Name, b.Name);
    }

    internal static int CompareName(string a, string b)
    {
        if (ReferenceEquals(a, b))
        {
            return 0;
        }

        var ra = NameRank(a);
        var rb = NameRank(b);
        return ra != rb ? ra.CompareTo(rb) : string.CompareOrdinal(a, b);
    }

    private static int NameRank(string name) => name switch
    {
        "cpus" => 0,
        "gpus" => 1,
        "mem" => 2,
        "disk" => 3,
        "ports" => 4,
        _ => 5,
    };

    private static bool EntryContains(Resource a, Resource b)
    {
        if (a.Type != b.Type)
        {
            return false;
        }

        return a.Type switch
        {
            ResourceType.Scalar => a.ScalarMillis >= b.ScalarMillis,
            ResourceType.Ranges => a.Ranges.Contains(b.Ranges),
            _ => new HashSet<string>(a.SetItems, StringComparer.Ordinal).IsSupersetOf(b.SetItems),
        };
    }

    private static Resource Combine(Resource a, Resource b)
    {
        if (a.Type != b.Type)
        {
            throw new ArgumentException($"resource '{a.Name}' is both {a.Type} and {b.Type}: '{a}' and '{b}'");
        }

        return a.Type switch
        {
            ResourceType.Scalar => a.WithMillis(checked(a.ScalarMillis + b.ScalarMillis)),
            ResourceType.Ranges => a.WithRanges(a.Ranges.Union(b.Ranges)),
            _ => a.WithSet([.. a.SetItems.Union(b.SetItems, StringComparer.Ordinal).Order(StringComparer.Ordinal)]),
        };
    }

    private static Resource Difference(Resource a, Resource b) => a.Type switch
    {
        ResourceType.Scalar => a.WithMillis(a.ScalarMillis - b.ScalarMillis),
        ResourceType.Ranges => a.WithRanges(a.Ranges.Except(b.Ranges)),
        _ => a.WithSet([.. a.SetItems.Except(b.SetItems, StringComparer.Ordinal)]),
    };

    private static Resource ParseOne(string token)
    {
        var colon = token.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            throw new ResourceParseException(token, "expected 'name:value' or 'name(role):value'");
        }

        var head = token[..colon].Trim();
        var value = token[(colon + 1)..].Trim();
        string name;
        string? role = null;
        var open = head.IndexOf('(', StringComparison.Ordinal);
        if (open >= 0)
        {
            if (!head.EndsWith(')'))
            {
                throw new ResourceParseException(token, "missing ')' after the role");
            }

            name = head[..open].Trim();
            role = head[(open + 1)..^1].Trim();
            if (role.Length == 0)
            {
                throw new ResourceParseException(token, "empty role in '()'; use '*' or omit it for unreserved");
            }

            var roleError = RolePath.Validate(role);
            if (roleError is not null)
            {
                throw new ResourceParseException(token, roleError);
            }
        }
        else
        {
            if (head.Contains(')', StringComparison.Ordinal))
            {
                throw new ResourceParseException(token, "')' without '('");
            }

            name = head;
        }

        var nameError = Resource.ValidateName(name);
        if (nameError is not null)
        {
            throw new ResourceParseException(token, nameError);
        }

        if (value.Length == 0)
        {
            throw new ResourceParseException(token, "missing value after ':'");
        }

        try
        {
            return value[0] switch
            {
                '[' => Resource.CreateRanges(name, ParseRanges(token, value), role),
                '{' => Resource.CreateSet(name, ParseSet(token, value), role),
                _ => Resource.CreateScalarMillis(name, ParseScalar(token, value), role),
            };
        }
        catch (ArgumentException e)
        {
            throw new ResourceParseException(token, e.Message.Split(" (Parameter")[0]);
        }
    }

    private static long ParseScalar(string token, string value)
    {
        if (!decimal.TryParse(value, NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out var number))
        {
            if (double.TryParse(value, NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out _))
            {
                throw new ResourceParseException(token, $"'{value}' is out of range");
            }

            throw new ResourceParseException(token, $"'{value}' is not a number, '[ranges]' or '{{set}}'");
        }

        var millis = decimal.Round(number * 1000m, MidpointRounding.AwayFromZero);
        if (millis > long.MaxValue)
        {
            throw new ResourceParseException(token, $"'{value}' is out of range");
        }

        return (long)millis;
    }

    private static ValueRanges ParseRanges(string token, string value)
    {
        if (!value.EndsWith(']'))
        {
            throw new ResourceParseException(token, "missing ']' at the end of the ranges");
        }

        var inner = value[1..^1].Trim();
        var ranges = new List<ValueRange>();
        if (inner.Length == 0)
        {
            return ValueRanges.Empty;
        }

        foreach (var part in inner.Split(','))
        {
            var p = part.Trim();
            if (p.Length == 0)
            {
                throw new ResourceParseException(token, "empty range between commas");
            }

            var dash = p.IndexOf('-', 1);
            var beginText = dash < 0 ? p : p[..dash].Trim();
            var endText = dash < 0 ? p : p[(dash + 1)..].Trim();
            if (!long.TryParse(beginText, NumberStyles.None, CultureInfo.InvariantCulture, out var begin)
                || !long.TryParse(endText, NumberStyles.None, CultureInfo.InvariantCulture, out var end))
            {
                throw new ResourceParseException(token, $"range '{p}' is not 'begin-end' with non-negative integers");
            }

            if (end < begin)
            {
                throw new ResourceParseException(token, $"range '{p}' ends before it begins");
            }

            if (end > ValueRanges.MaxValue)
            {
                throw new ResourceParseException(token, $"range '{p}' exceeds the largest value {ValueRanges.MaxValue}");
            }

            ranges.Add(new ValueRange(begin, end));
        }

        return ValueRanges.Of(ranges);
    }

    private static string[] ParseSet(string token, string value)
    {
        if (!value.EndsWith('}'))
        {
            throw new ResourceParseException(token, "missing '}' at the end of the set");
        }

        var items = value[1..^1].Split(',').Select(static s => s.Trim()).ToArray();
        if (items.Length == 1 && items[0].Length == 0)
        {
            return [];
        }

        if (items.Any(static s => s.Length == 0))
        {
            throw new ResourceParseException(token, "empty item in the set");
        }

        return items;
    }
}
