namespace DatacenterOs.Kernel;

/// <summary>
/// Scalar amounts by resource name, without reservations: <c>cpus:1.5;mem:512</c> (cpus in fractional cores,
/// mem and disk in MiB). Used for quota limits and <c>min_allocatable_resources</c>.
/// Mesos <c>ResourceQuantities</c> (<c>src/common/resource_quantities.hpp</c>). Immutable; zero entries are dropped.
/// </summary>
public sealed class ResourceQuantities : IEquatable<ResourceQuantities>
{
    private readonly KeyValuePair<string, long>[] _items;

    /// <summary>No quantities.</summary>
    public static ResourceQuantities Empty { get; } = new([]);

    private ResourceQuantities(KeyValuePair<string, long>[] sorted) => _items = sorted;

    /// <summary>Builds quantities from names and amounts (cpus in cores, mem/disk in MiB).</summary>
    /// <exception cref="ArgumentException">A name is invalid or an amount negative.</exception>
    public static ResourceQuantities Of(params IEnumerable<(string Name, double Amount)> amounts) =>
        FromMillis(amounts.Select(a => new KeyValuePair<string, long>(a.Name, Resource.ToMillis(a.Amount, a.Name))));

    /// <summary>Builds quantities from names and amounts in thousandths; repeated names are summed.</summary>
    /// <exception cref="ArgumentException">A name is invalid or an amount negative.</exception>
    public static ResourceQuantities FromMillis(IEnumerable<KeyValuePair<string, long>> amounts)
    {
        var map = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (name, millis) in amounts)
        {
            var error = Resource.ValidateName(name);
            if (error is not null)
            {
                throw new ArgumentException(error, nameof(amounts));
            }

            if (millis < 0)
            {
                throw new ArgumentException($"quantity '{name}' must not be negative", nameof(amounts));
            }

            map[name] = map.GetValueOrDefault(name) + millis;
        }

        var items = map.Where(static kv => kv.Value > 0).ToArray();
        Array.Sort(items, static (a, b) => Resources.CompareName(a.Key, b.Key));
        return new ResourceQuantities(items);
    }

    /// <summary>Parses <c>name:amount</c> pairs separated by <c>;</c>, e.g. <c>cpus:1;mem:512</c>. Roles and non-scalars are rejected.</summary>
    /// <exception cref="ResourceParseException">The text is malformed, has a role, or a non-scalar value.</exception>
    public static ResourceQuantities Parse(string text)
    {
        var resources = Resources.Parse(text);
        foreach (var r in resources)
        {
            if (r.IsReserved)
            {
                throw new ResourceParseException(r.ToString(), "quantities take no role");
            }

            if (r.Type != ResourceType.Scalar)
            {
                throw new ResourceParseException(r.ToString(), "quantities must be scalars");
            }
        }

        return resources.ToQuantities();
    }

    /// <summary>
    /// Parses alternatives separated by <c>|</c>, each a <see cref="Parse"/> list: <c>cpus:0.01|mem:32</c>
    /// (the Mesos <c>--min_allocatable_resources</c> syntax).
    /// </summary>
    /// <exception cref="ResourceParseException">An alternative is malformed or empty.</exception>
    public static IReadOnlyList<ResourceQuantities> ParseAlternatives(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var result = new List<ResourceQuantities>();
        foreach (var part in text.Split('|'))
        {
            var q = Parse(part);
            if (q.IsEmpty)
            {
                throw new ResourceParseException(part, "an alternative must name at least one positive quantity");
            }

            result.Add(q);
        }

        return result;
    }

    /// <summary>The (name, thousandths) pairs in canonical name order.</summary>
    public IReadOnlyList<KeyValuePair<string, long>> Millis => _items;

    /// <summary>Names with a positive amount.</summary>
    public IEnumerable<string> Names => _items.Select(static kv => kv.Key);

    /// <summary>True when nothing is positive.</summary>
    public bool IsEmpty => _items.Length == 0;

    /// <summary>Amount of <paramref name="name"/> (0 when absent).</summary>
    public double this[string name] => GetMillis(name) / 1000.0;

    /// <summary>Amount of <paramref name="name"/> in thousandths (0 when absent).</summary>
    public long GetMillis(string name)
    {
        foreach (var kv in _items)
        {
            if (string.Equals(kv.Key, name, StringComparison.Ordinal))
            {
                return kv.Value;
            }
        }

        return 0;
    }

    /// <summary>True when every amount of <paramref name="other"/> is at most the amount here.</summary>
    public bool Contains(ResourceQuantities other)
    {
        ArgumentNullException.ThrowIfNull(other);
        foreach (var kv in other._items)
        {
            if (GetMillis(kv.Key) < kv.Value)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Sum by name.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="other"/> is null.</exception>
    public ResourceQuantities Add(ResourceQuantities other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return FromMillis(_items.Concat(other._items));
    }

    /// <summary>Difference by name, floored at zero.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="other"/> is null.</exception>
    public ResourceQuantities SubtractSaturating(ResourceQuantities other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return FromMillis(_items.Select(kv => new KeyValuePair<string, long>(kv.Key, Math.Max(0, kv.Value - other.GetMillis(kv.Key)))));
    }

    /// <inheritdoc />
    public bool Equals(ResourceQuantities? other) =>
        other is not null && _items.AsSpan().SequenceEqual(other._items);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as ResourceQuantities);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var kv in _items)
        {
            h.Add(kv);
        }

        return h.ToHashCode();
    }

    /// <summary>Text form, e.g. <c>cpus:1.5;mem:512</c>.</summary>
    public override string ToString() => string.Join(';', _items.Select(static kv => kv.Key + ":" + Resource.FormatMillis(kv.Value)));
}
