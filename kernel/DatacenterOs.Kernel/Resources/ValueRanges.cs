using System.Globalization;
using System.Text;

namespace DatacenterOs.Kernel;

/// <summary>
/// One inclusive range of integer values, e.g. the ports <c>31000-32000</c>.
/// Mesos <c>Value.Range</c> (<c>include/mesos/v1/mesos.proto</c>).
/// </summary>
/// <param name="Begin">First value in the range (inclusive).</param>
/// <param name="End">Last value in the range (inclusive); never less than <paramref name="Begin"/>.</param>
public readonly record struct ValueRange(long Begin, long End)
{
    /// <summary>Number of values in the range (<c>End - Begin + 1</c>).</summary>
    public long Count => End - Begin + 1;

    /// <inheritdoc />
    public override string ToString() => Begin.ToString(CultureInfo.InvariantCulture) + "-" + End.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// An immutable, normalized set of integer ranges (sorted, non-overlapping, adjacent ranges merged),
/// e.g. <c>[31000-31099,31200-32000]</c>. Used for the <c>ports</c> resource.
/// Text form as Mesos: <c>[b1-e1,b2-e2,…]</c>.
/// </summary>
public sealed class ValueRanges : IEquatable<ValueRanges>
{
    private readonly ValueRange[] _ranges;

    /// <summary>Largest value a range may hold (<c>long.MaxValue - 1</c>, so that arithmetic on bounds never overflows).</summary>
    public const long MaxValue = long.MaxValue - 1;

    /// <summary>The empty set of ranges.</summary>
    public static ValueRanges Empty { get; } = new([]);

    private ValueRanges(ValueRange[] normalized) => _ranges = normalized;

    /// <summary>Creates a normalized set from any ranges (overlapping and unsorted input allowed).</summary>
    /// <exception cref="ArgumentException">A range has <c>End &lt; Begin</c>, a negative bound, or a bound above <see cref="MaxValue"/>.</exception>
    public static ValueRanges Of(params IEnumerable<ValueRange> ranges)
    {
        var list = new List<ValueRange>(ranges);
        foreach (var r in list)
        {
            if (r.End < r.Begin || r.Begin < 0 || r.End > MaxValue)
            {
                throw new ArgumentException($"invalid range '{r}': begin must be >= 0 and <= end, and end <= {MaxValue}", nameof(ranges));
            }
        }

        return new ValueRanges(Normalize(list));
    }

    /// <summary>Creates the single range <c>[begin-end]</c>.</summary>
    public static ValueRanges Of(long begin, long end) => Of(new ValueRange(begin, end));

    /// <summary>The ranges in ascending order.</summary>
    public ReadOnlySpan<ValueRange> Ranges => _ranges;

    /// <summary>Number of disjoint ranges.</summary>
    public int RangeCount => _ranges.Length;

    /// <summary>Total number of values over all ranges.</summary>
    public long Count
    {
        get
        {
            long n = 0;
            foreach (var r in _ranges)
            {
                n += r.Count;
            }

            return n;
        }
    }

    /// <summary>True when there are no values.</summary>
    public bool IsEmpty => _ranges.Length == 0;

    /// <summary>Union of the two sets.</summary>
    public ValueRanges Union(ValueRanges other)
    {
        if (other.IsEmpty)
        {
            return this;
        }

        if (IsEmpty)
        {
            return other;
        }

        var list = new List<ValueRange>(_ranges.Length + other._ranges.Length);
        list.AddRange(_ranges);
        list.AddRange(other._ranges);
        return new ValueRanges(Normalize(list));
    }

    /// <summary>Values in this set that are not in <paramref name="other"/>.</summary>
    public ValueRanges Except(ValueRanges other)
    {
        if (other.IsEmpty || IsEmpty)
        {
            return this;
        }

        var result = new List<ValueRange>(_ranges.Length + 1);
        var j = 0;
        foreach (var r in _ranges)
        {
            var begin = r.Begin;
            var end = r.End;
            while (j < other._ranges.Length && other._ranges[j].End < begin)
            {
                j++;
            }

            var k = j;
            while (begin <= end)
            {
                if (k >= other._ranges.Length || other._ranges[k].Begin > end)
                {
                    result.Add(new ValueRange(begin, end));
                    break;
                }

                var cut = other._ranges[k];
                if (cut.Begin > begin)
                {
                    result.Add(new ValueRange(begin, cut.Begin - 1));
                }

                begin = cut.End + 1;
                k++;
            }
        }

        return new ValueRanges([.. result]);
    }

    /// <summary>True when every value of <paramref name="other"/> is in this set.</summary>
    public bool Contains(ValueRanges other)
    {
        if (ReferenceEquals(this, other) || other.IsEmpty)
        {
            return true;
        }

        var i = 0;
        foreach (var r in other._ranges)
        {
            while (i < _ranges.Length && _ranges[i].End < r.Begin)
            {
                i++;
            }

            if (i >= _ranges.Length || _ranges[i].Begin > r.Begin || _ranges[i].End < r.End)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>True when <paramref name="value"/> lies in one of the ranges.</summary>
    public bool Contains(long value)
    {
        int lo = 0, hi = _ranges.Length - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_ranges[mid].End < value)
            {
                lo = mid + 1;
            }
            else if (_ranges[mid].Begin > value)
            {
                hi = mid - 1;
            }
            else
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The first <paramref name="count"/> values, in ascending order, as ranges.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative or exceeds <see cref="Count"/>.</exception>
    public ValueRanges Take(long count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, Count);
        var result = new List<ValueRange>();
        foreach (var r in _ranges)
        {
            if (count == 0)
            {
                break;
            }

            var n = Math.Min(count, r.Count);
            result.Add(new ValueRange(r.Begin, r.Begin + n - 1));
            count -= n;
        }

        return new ValueRanges([.. result]);
    }

    /// <inheritdoc />
    public bool Equals(ValueRanges? other) =>
        other is not null && (ReferenceEquals(this, other) || _ranges.AsSpan().SequenceEqual(other._ranges));

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as ValueRanges);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var r in _ranges)
        {
            h.Add(r);
        }

        return h.ToHashCode();
    }

    /// <summary>Mesos text form, e.g. <c>[31000-31099,31200-32000]</c>.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder("[");
        for (var i = 0; i < _ranges.Length; i++)
        {
            if (i > 0)
            {
                sb.Append(',');
            }

            sb.Append(_ranges[i].ToString());
        }

        return sb.Append(']').ToString();
    }

    private static ValueRange[] Normalize(List<ValueRange> list)
    {
        if (list.Count <= 1)
        {
            return [.. list];
        }

        list.Sort(static (a, b) => a.Begin.CompareTo(b.Begin));
        var result = new List<ValueRange>(list.Count);
        var current = list[0];
        for (var i = 1; i < list.Count; i++)
        {
            var next = list[i];
            if (next.Begin <= current.End + 1)
            {
                current = new ValueRange(current.Begin, Math.Max(current.End, next.End));
            }
            else
            {
                result.Add(current);
                current = next;
            }
        }

        result.Add(current);
        return [.. result];
    }
}
