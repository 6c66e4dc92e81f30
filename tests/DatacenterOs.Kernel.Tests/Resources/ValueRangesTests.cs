namespace DatacenterOs.Kernel.Tests.ResourceModel;

/// <summary>Tests of <see cref="ValueRanges"/> and <see cref="ValueRange"/>.</summary>
public sealed class ValueRangesTests
{
    private static ValueRanges R(params (long Begin, long End)[] ranges) =>
        ValueRanges.Of(ranges.Select(r => new ValueRange(r.Begin, r.End)));

    private static (long, long)[] Pairs(ValueRanges ranges) =>
        ranges.Ranges.ToArray().Select(r => (r.Begin, r.End)).ToArray();

    [Fact]
    public void ValueRange_CountAndToString()
    {
        var r = new ValueRange(31000, 32000);

        Assert.Equal(1001, r.Count);
        Assert.Equal("31000-32000", r.ToString());
        Assert.Equal(1, new ValueRange(7, 7).Count);
        Assert.Equal(new ValueRange(1, 2), new ValueRange(1, 2));
    }

    [Fact]
    public void Empty_HasNothing()
    {
        var e = ValueRanges.Empty;

        Assert.True(e.IsEmpty);
        Assert.Equal(0, e.Count);
        Assert.Equal(0, e.RangeCount);
        Assert.Equal("[]", e.ToString());
        Assert.False(e.Contains(0));
        Assert.True(e.Contains(ValueRanges.Empty));
        Assert.Equal(ValueRanges.Empty, ValueRanges.Of());
    }

    [Fact]
    public void Of_SingleRange()
    {
        var r = ValueRanges.Of(31000, 32000);

        Assert.False(r.IsEmpty);
        Assert.Equal(1, r.RangeCount);
        Assert.Equal(1001, r.Count);
        Assert.Equal("[31000-32000]", r.ToString());
    }

    [Fact]
    public void Of_SortsRanges()
    {
        Assert.Equal([(1L, 2L), (5L, 6L), (10L, 12L)], Pairs(R((10, 12), (1, 2), (5, 6))));
    }

    [Fact]
    public void Of_MergesOverlappingRanges()
    {
        Assert.Equal([(1L, 8L)], Pairs(R((1, 5), (3, 8))));
        Assert.Equal([(1L, 10L)], Pairs(R((1, 10), (3, 4))));
        Assert.Equal([(1L, 10L)], Pairs(R((3, 4), (1, 10))));
        Assert.Equal([(1L, 5L)], Pairs(R((1, 5), (1, 5))));
        Assert.Equal([(1L, 5L)], Pairs(R((1, 5), (5, 5))));
    }

    [Fact]
    public void Of_MergesAdjacentRanges()
    {
        Assert.Equal([(1L, 10L)], Pairs(R((1, 5), (6, 10))));
        Assert.Equal([(1L, 3L)], Pairs(R((3, 3), (1, 1), (2, 2))));
    }

    [Fact]
    public void Of_KeepsRangesWithAGapApart()
    {
        Assert.Equal([(1L, 5L), (7L, 10L)], Pairs(R((7, 10), (1, 5))));
    }

    [Fact]
    public void Of_MergesChainsAcrossManyRanges()
    {
        var r = R((20, 25), (1, 3), (4, 6), (30, 31), (5, 21), (40, 40));

        Assert.Equal([(1L, 25L), (30L, 31L), (40L, 40L)], Pairs(r));
        Assert.Equal("[1-25,30-31,40-40]", r.ToString());
        Assert.Equal(25 + 2 + 1, r.Count);
    }

    [Theory]
    [InlineData(5, 1)]
    [InlineData(-1, 5)]
    [InlineData(-5, -1)]
    public void Of_InvalidRange_Throws(long begin, long end)
    {
        var e = Assert.Throws<ArgumentException>(() => ValueRanges.Of(begin, end));

        Assert.Contains($"{begin}-{end}", e.Message);
    }

    [Fact]
    public void Of_IsOrderInsensitive_ForEqualityAndHash()
    {
        var a = R((1, 5), (10, 20));
        var b = R((10, 15), (16, 20), (1, 3), (4, 5));

        Assert.Equal(a, b);
        Assert.True(a.Equals((object)b));
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, R((1, 5), (10, 21)));
        Assert.False(a.Equals(null));
        Assert.False(a.Equals("[1-5,10-20]"));
    }

    [Theory]
    [InlineData(new long[] { 1, 5 }, new long[] { 10, 20 }, "[1-5,10-20]")]
    [InlineData(new long[] { 1, 5 }, new long[] { 3, 20 }, "[1-20]")]
    [InlineData(new long[] { 1, 5 }, new long[] { 6, 20 }, "[1-20]")]
    [InlineData(new long[] { 10, 20 }, new long[] { 1, 5 }, "[1-5,10-20]")]
    [InlineData(new long[] { 1, 20 }, new long[] { 5, 6 }, "[1-20]")]
    [InlineData(new long[] { 1, 2, 10, 11 }, new long[] { 3, 9 }, "[1-11]")]
    [InlineData(new long[] { 1, 2, 10, 11 }, new long[] { 4, 5, 20, 30 }, "[1-2,4-5,10-11,20-30]")]
    public void Union_MergesAndSorts(long[] left, long[] right, string expected)
    {
        var a = FromFlat(left);
        var b = FromFlat(right);

        Assert.Equal(expected, a.Union(b).ToString());
        Assert.Equal(expected, b.Union(a).ToString());
    }

    [Fact]
    public void Union_WithEmpty_ReturnsTheOtherSide()
    {
        var a = ValueRanges.Of(1, 5);

        Assert.Same(a, a.Union(ValueRanges.Empty));
        Assert.Same(a, ValueRanges.Empty.Union(a));
    }

    [Theory]
    // Splitting a range in the middle.
    [InlineData(new long[] { 1, 10 }, new long[] { 4, 6 }, "[1-3,7-10]")]
    [InlineData(new long[] { 1, 10 }, new long[] { 5, 5 }, "[1-4,6-10]")]
    // Removing the ends.
    [InlineData(new long[] { 1, 10 }, new long[] { 1, 3 }, "[4-10]")]
    [InlineData(new long[] { 1, 10 }, new long[] { 8, 10 }, "[1-7]")]
    [InlineData(new long[] { 1, 10 }, new long[] { 0, 3 }, "[4-10]")]
    [InlineData(new long[] { 1, 10 }, new long[] { 8, 15 }, "[1-7]")]
    [InlineData(new long[] { 1, 10 }, new long[] { 1, 1, 10, 10 }, "[2-9]")]
    // Removing everything.
    [InlineData(new long[] { 1, 10 }, new long[] { 1, 10 }, "[]")]
    [InlineData(new long[] { 1, 10 }, new long[] { 0, 100 }, "[]")]
    [InlineData(new long[] { 1, 2, 5, 6 }, new long[] { 1, 6 }, "[]")]
    // Disjoint.
    [InlineData(new long[] { 1, 10 }, new long[] { 20, 30 }, "[1-10]")]
    [InlineData(new long[] { 20, 30 }, new long[] { 1, 10 }, "[20-30]")]
    [InlineData(new long[] { 5, 6 }, new long[] { 1, 4, 7, 9 }, "[5-6]")]
    // Several holes and several ranges.
    [InlineData(new long[] { 1, 20 }, new long[] { 2, 3, 6, 7, 19, 19 }, "[1-1,4-5,8-18,20-20]")]
    [InlineData(new long[] { 1, 5, 10, 15, 20, 25 }, new long[] { 4, 11, 24, 30 }, "[1-3,12-15,20-23]")]
    [InlineData(new long[] { 1, 5, 10, 15 }, new long[] { 0, 0, 3, 3, 6, 9, 12, 12 }, "[1-2,4-5,10-11,13-15]")]
    public void Except_RemovesValues(long[] left, long[] right, string expected)
    {
        Assert.Equal(expected, FromFlat(left).Except(FromFlat(right)).ToString());
    }

    [Fact]
    public void Except_Empty_ReturnsThis()
    {
        var a = ValueRanges.Of(1, 5);

        Assert.Same(a, a.Except(ValueRanges.Empty));
        Assert.True(ValueRanges.Empty.Except(a).IsEmpty);
    }

    [Fact]
    public void Except_Self_IsEmpty()
    {
        var a = R((1, 5), (10, 20));

        Assert.True(a.Except(a).IsEmpty);
        Assert.Equal(ValueRanges.Empty, a.Except(a));
    }

    [Fact]
    public void Except_ThenUnion_RestoresTheOriginal()
    {
        var a = ValueRanges.Of(1, 100);
        var hole = R((10, 20), (50, 50), (99, 100));

        Assert.Equal(a, a.Except(hole).Union(hole));
    }

    [Theory]
    [InlineData(new long[] { 1, 10 }, new long[] { 1, 10 }, true)]
    [InlineData(new long[] { 1, 10 }, new long[] { 3, 4 }, true)]
    [InlineData(new long[] { 1, 10 }, new long[] { 1, 1, 10, 10 }, true)]
    [InlineData(new long[] { 1, 10 }, new long[] { 0, 1 }, false)]
    [InlineData(new long[] { 1, 10 }, new long[] { 10, 11 }, false)]
    [InlineData(new long[] { 1, 10 }, new long[] { 0, 11 }, false)]
    [InlineData(new long[] { 1, 10 }, new long[] { 20, 30 }, false)]
    [InlineData(new long[] { 1, 5, 7, 10 }, new long[] { 4, 8 }, false)]
    [InlineData(new long[] { 1, 5, 7, 10 }, new long[] { 2, 3, 8, 9 }, true)]
    [InlineData(new long[] { 1, 5, 7, 10 }, new long[] { 2, 3, 6, 6 }, false)]
    [InlineData(new long[] { 1, 5, 7, 10 }, new long[] { 2, 3, 11, 11 }, false)]
    [InlineData(new long[] { 10, 20 }, new long[] { 1, 2 }, false)]
    public void Contains_Ranges_IsSubset(long[] left, long[] right, bool expected)
    {
        Assert.Equal(expected, FromFlat(left).Contains(FromFlat(right)));
    }

    [Fact]
    public void Contains_EmptyAndSelf()
    {
        var a = R((1, 5), (7, 9));

        Assert.True(a.Contains(ValueRanges.Empty));
        Assert.True(a.Contains(a));
        Assert.True(a.Contains(R((7, 9), (1, 5))));
        Assert.False(ValueRanges.Empty.Contains(a));
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(1, true)]
    [InlineData(3, true)]
    [InlineData(5, true)]
    [InlineData(6, false)]
    [InlineData(9, false)]
    [InlineData(10, true)]
    [InlineData(15, true)]
    [InlineData(16, false)]
    [InlineData(30, true)]
    [InlineData(31, false)]
    [InlineData(-1, false)]
    [InlineData(long.MaxValue, false)]
    public void Contains_Value(long value, bool expected)
    {
        var r = R((1, 5), (10, 15), (20, 20), (30, 30));

        Assert.Equal(expected, r.Contains(value));
    }

    [Fact]
    public void Contains_Value_AgreesWithLinearScanOverManyRanges()
    {
        var r = ValueRanges.Of(Enumerable.Range(0, 50).Select(i => new ValueRange(i * 10L, (i * 10L) + 4)));

        for (long v = -2; v < 510; v++)
        {
            Assert.Equal(v >= 0 && v < 500 && v % 10 < 5, r.Contains(v));
        }
    }

    [Fact]
    public void Take_ReturnsTheFirstValuesInOrder()
    {
        var r = R((1, 3), (10, 12), (20, 29));

        Assert.Equal("[]", r.Take(0).ToString());
        Assert.Equal("[1-1]", r.Take(1).ToString());
        Assert.Equal("[1-3]", r.Take(3).ToString());
        Assert.Equal("[1-3,10-10]", r.Take(4).ToString());
        Assert.Equal("[1-3,10-12,20-24]", r.Take(11).ToString());
        Assert.Equal(r, r.Take(r.Count));
    }

    [Fact]
    public void Take_ResultIsContainedAndHasTheRequestedCount()
    {
        var r = R((5, 9), (100, 199), (300, 300));

        for (long n = 0; n <= r.Count; n++)
        {
            var taken = r.Take(n);
            Assert.Equal(n, taken.Count);
            Assert.True(r.Contains(taken));
            Assert.Equal(r, taken.Union(r.Except(taken)));
        }
    }

    [Fact]
    public void Take_TooManyOrNegative_Throws()
    {
        var r = ValueRanges.Of(1, 3);

        Assert.Throws<ArgumentOutOfRangeException>(() => r.Take(4));
        Assert.Throws<ArgumentOutOfRangeException>(() => r.Take(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => ValueRanges.Empty.Take(1));
        Assert.True(ValueRanges.Empty.Take(0).IsEmpty);
    }

    [Fact]
    public void Count_SumsAllRanges()
    {
        Assert.Equal(1001 + 1 + 2, R((31000, 32000), (5, 5), (7, 8)).Count);
        Assert.Equal(3, R((7, 8), (5, 5), (7, 7)).Count);
        Assert.Equal(0, ValueRanges.Empty.Count);
    }

    [Fact]
    public void ToString_ListsRangesInOrder()
    {
        Assert.Equal("[1-2,4-4,31000-32000]", R((31000, 32000), (4, 4), (1, 2)).ToString());
    }

    [Fact]
    public void Ranges_ExposesNormalizedRanges()
    {
        var r = R((10, 12), (1, 2), (3, 4));

        Assert.Equal(2, r.RangeCount);
        Assert.Equal(new ValueRange(1, 4), r.Ranges[0]);
        Assert.Equal(new ValueRange(10, 12), r.Ranges[1]);
    }

    [Fact]
    public void Operations_DoNotMutateTheOperands()
    {
        var a = R((1, 10));
        var b = R((5, 15));

        _ = a.Union(b);
        _ = a.Except(b);
        _ = a.Take(3);

        Assert.Equal("[1-10]", a.ToString());
        Assert.Equal("[5-15]", b.ToString());
    }

    [Fact]
    public void RandomOperations_AgreeWithASetOfValues()
    {
        var random = new Random(42);
        for (var i = 0; i < 500; i++)
        {
            var (a, aSet) = RandomRanges(random);
            var (b, bSet) = RandomRanges(random);

            AssertMatches(aSet, a);
            AssertMatches([.. aSet.Union(bSet)], a.Union(b));
            AssertMatches([.. aSet.Except(bSet)], a.Except(b));
            Assert.Equal(bSet.IsSubsetOf(aSet), a.Contains(b));
            for (long v = 0; v < 70; v++)
            {
                Assert.Equal(aSet.Contains(v), a.Contains(v));
            }

            var n = random.NextInt64(0, a.Count + 1);
            AssertMatches([.. aSet.Order().Take((int)n)], a.Take(n));
        }
    }

    [Fact]
    public void Bounds_above_MaxValue_are_rejected_so_bound_arithmetic_never_overflows()
    {
        Assert.Throws<ArgumentException>(() => ValueRanges.Of(0, long.MaxValue));
        Assert.Throws<ResourceParseException>(() => DatacenterOs.Kernel.Resources.Parse("ports:[9223372036854775807-9223372036854775807]"));
        var top = ValueRanges.Of(ValueRanges.MaxValue, ValueRanges.MaxValue);
        Assert.True(top.Except(top).IsEmpty);
        Assert.Equal(1, R((0, ValueRanges.MaxValue), (5, 10)).RangeCount);
        Assert.Equal("[1-9]", ValueRanges.Of(1, ValueRanges.MaxValue).Except(ValueRanges.Of(10, ValueRanges.MaxValue)).ToString());
        Assert.Equal(ValueRanges.MaxValue + 1, ValueRanges.Of(0, ValueRanges.MaxValue).Count);
    }

    private static ValueRanges FromFlat(long[] flat)
    {
        var list = new List<ValueRange>();
        for (var i = 0; i < flat.Length; i += 2)
        {
            list.Add(new ValueRange(flat[i], flat[i + 1]));
        }

        return ValueRanges.Of(list);
    }

    private static (ValueRanges Ranges, HashSet<long> Values) RandomRanges(Random random)
    {
        var list = new List<ValueRange>();
        var values = new HashSet<long>();
        var n = random.Next(0, 6);
        for (var i = 0; i < n; i++)
        {
            long begin = random.Next(0, 60);
            var end = begin + random.Next(0, 10);
            list.Add(new ValueRange(begin, end));
            for (var v = begin; v <= end; v++)
            {
                values.Add(v);
            }
        }

        return (ValueRanges.Of(list), values);
    }

    private static void AssertMatches(HashSet<long> expected, ValueRanges actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        var previousEnd = -2L;
        foreach (var r in actual.Ranges)
        {
            Assert.True(r.Begin <= r.End);
            Assert.True(r.Begin > previousEnd + 1, $"ranges not normalized: {actual}");
            previousEnd = r.End;
            for (var v = r.Begin; v <= r.End; v++)
            {
                Assert.Contains(v, expected);
            }
        }
    }
}
