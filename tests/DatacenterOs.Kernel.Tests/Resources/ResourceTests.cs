namespace DatacenterOs.Kernel.Tests.ResourceModel;

/// <summary>Tests of the single <see cref="Resource"/> entry.</summary>
public sealed class ResourceTests
{
    [Fact]
    public void CreateScalar_RoundsToThousandths()
    {
        var r = Resource.CreateScalar("cpus", 1.23456);

        Assert.Equal("cpus", r.Name);
        Assert.Null(r.Role);
        Assert.False(r.IsReserved);
        Assert.Equal(ResourceType.Scalar, r.Type);
        Assert.Equal(1235, r.ScalarMillis);
        Assert.Equal(1.235, r.Scalar);
        Assert.True(r.Ranges.IsEmpty);
        Assert.Empty(r.SetItems);
        Assert.Equal("cpus:1.235", r.ToString());
    }

    [Fact]
    public void CreateScalar_WithRole_IsReserved()
    {
        var r = Resource.CreateScalar("mem", 512, "eng/web");

        Assert.Equal("eng/web", r.Role);
        Assert.True(r.IsReserved);
        Assert.Equal("mem(eng/web):512", r.ToString());
        Assert.Equal("512", r.ValueToString());
    }

    [Fact]
    public void CreateScalar_StarRole_IsUnreserved()
    {
        Assert.Null(Resource.CreateScalar("cpus", 1, "*").Role);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(-0.001)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    [InlineData(1e13)]
    public void CreateScalar_InvalidValue_Throws(double value)
    {
        Assert.Throws<ArgumentException>(() => Resource.CreateScalar("cpus", value));
    }

    [Fact]
    public void CreateScalarMillis_Negative_Throws()
    {
        Assert.Throws<ArgumentException>(() => Resource.CreateScalarMillis("cpus", -1));
        Assert.True(Resource.CreateScalarMillis("cpus", 0).IsEmpty);
    }

    [Theory]
    [InlineData("")]
    [InlineData("cp us")]
    [InlineData("cpus(x)")]
    [InlineData("cpus:")]
    [InlineData("a;b")]
    public void Create_InvalidName_Throws(string name)
    {
        Assert.Throws<ArgumentException>(() => Resource.CreateScalar(name, 1));
        Assert.Throws<ArgumentException>(() => Resource.CreateRanges(name, ValueRanges.Of(1, 2)));
        Assert.Throws<ArgumentException>(() => Resource.CreateSet(name, ["a"]));
    }

    [Theory]
    [InlineData("")]
    [InlineData("/a")]
    [InlineData("a//b")]
    [InlineData("-a")]
    [InlineData("a b")]
    public void Create_InvalidRole_Throws(string role)
    {
        Assert.Throws<ArgumentException>(() => Resource.CreateScalar("cpus", 1, role));
        Assert.Throws<ArgumentException>(() => Resource.CreateRanges("ports", ValueRanges.Of(1, 2), role));
        Assert.Throws<ArgumentException>(() => Resource.CreateSet("zones", ["a"], role));
    }

    [Fact]
    public void CreateRanges_HoldsTheRanges()
    {
        var r = Resource.CreateRanges("ports", ValueRanges.Of(31000, 32000), "web");

        Assert.Equal(ResourceType.Ranges, r.Type);
        Assert.Equal(0, r.ScalarMillis);
        Assert.False(r.IsEmpty);
        Assert.Equal("ports(web):[31000-32000]", r.ToString());
        Assert.True(Resource.CreateRanges("ports", ValueRanges.Empty).IsEmpty);
        Assert.Throws<ArgumentNullException>(() => Resource.CreateRanges("ports", null!));
    }

    [Fact]
    public void CreateSet_SortsAndDeduplicates()
    {
        var r = Resource.CreateSet("zones", ["c", "a", "b", "a"]);

        Assert.Equal(ResourceType.Set, r.Type);
        Assert.Equal(["a", "b", "c"], r.SetItems);
        Assert.Equal("zones:{a,b,c}", r.ToString());
        Assert.Equal("{a,b,c}", r.ValueToString());
        Assert.True(Resource.CreateSet("zones", []).IsEmpty);
    }

    [Fact]
    public void CreateSet_SortsOrdinally()
    {
        Assert.Equal(["B", "a", "b"], Resource.CreateSet("zones", ["b", "a", "B"]).SetItems);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    public void CreateSet_EmptyItem_Throws(string item)
    {
        Assert.Throws<ArgumentException>(() => Resource.CreateSet("zones", ["a", item]));
    }

    [Fact]
    public void WithRole_KeepsTheValue()
    {
        var scalar = Resource.CreateScalar("cpus", 1.5);
        var ranges = Resource.CreateRanges("ports", ValueRanges.Of(1, 5));
        var set = Resource.CreateSet("zones", ["a", "b"]);

        Assert.Equal(Resource.CreateScalar("cpus", 1.5, "web"), scalar.WithRole("web"));
        Assert.Equal(Resource.CreateRanges("ports", ValueRanges.Of(1, 5), "web"), ranges.WithRole("web"));
        Assert.Equal(Resource.CreateSet("zones", ["a", "b"], "web"), set.WithRole("web"));
        Assert.Equal(scalar, scalar.WithRole("web").WithRole(null));
        Assert.Equal(scalar, scalar.WithRole("web").WithRole("*"));
        Assert.Throws<ArgumentException>(() => scalar.WithRole("a//b"));
    }

    [Fact]
    public void Equals_AndHashCode_CompareAllParts()
    {
        var a = Resource.CreateScalar("cpus", 1, "web");

        Assert.Equal(a, Resource.CreateScalarMillis("cpus", 1000, "web"));
        Assert.Equal(a.GetHashCode(), Resource.CreateScalarMillis("cpus", 1000, "web").GetHashCode());
        Assert.NotEqual(a, Resource.CreateScalar("cpus", 1));
        Assert.NotEqual(a, Resource.CreateScalar("cpus", 2, "web"));
        Assert.NotEqual(a, Resource.CreateScalar("mem", 1, "web"));
        Assert.NotEqual(Resource.CreateSet("z", ["a"]), Resource.CreateSet("z", ["b"]));
        Assert.Equal(Resource.CreateSet("z", ["a", "b"]), Resource.CreateSet("z", ["b", "a"]));
        Assert.NotEqual(Resource.CreateRanges("p", ValueRanges.Of(1, 2)), Resource.CreateRanges("p", ValueRanges.Of(1, 3)));
        Assert.NotEqual(Resource.CreateRanges("p", ValueRanges.Empty), Resource.CreateSet("p", []));
        Assert.False(a.Equals(null));
        Assert.False(a.Equals((object)"cpus(web):1"));
    }

    [Fact]
    public void ZeroPointOnePlusZeroPointTwo_IsExactlyZeroPointThree()
    {
        var sum = Resource.ToMillis(0.1) + Resource.ToMillis(0.2);

        Assert.Equal(Resource.ToMillis(0.3), sum);
        Assert.Equal("0.3", Resource.FormatMillis(sum));
    }

    [Theory]
    [InlineData(0, "0")]
    [InlineData(1, "0.001")]
    [InlineData(10, "0.01")]
    [InlineData(100, "0.1")]
    [InlineData(1000, "1")]
    [InlineData(1500, "1.5")]
    [InlineData(1230, "1.23")]
    [InlineData(1234, "1.234")]
    [InlineData(4096000, "4096")]
    [InlineData(9_000_000_000_000_000, "9000000000000")]
    [InlineData(9_000_000_000_000_001, "9000000000000.001")]
    public void FormatMillis_PrintsAtMostThreeDecimals(long millis, string expected)
    {
        Assert.Equal(expected, Resource.FormatMillis(millis));
    }

    [Theory]
    [InlineData(0.0, 0)]
    [InlineData(0.0004, 0)]
    [InlineData(0.0006, 1)]
    [InlineData(1.5, 1500)]
    [InlineData(2.675, 2675)]
    [InlineData(0.1, 100)]
    [InlineData(9e12, 9_000_000_000_000_000)]
    public void ToMillis_RoundsToThousandths(double value, long expected)
    {
        Assert.Equal(expected, Resource.ToMillis(value));
    }

    [Fact]
    public void ToMillis_InvalidValue_MessageNamesTheResource()
    {
        var e = Assert.Throws<ArgumentException>(() => Resource.ToMillis(-2, "mem"));

        Assert.Contains("'mem'", e.Message);
        Assert.Contains("-2", e.Message);
    }
}
