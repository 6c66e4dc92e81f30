namespace DatacenterOs.Kernel.Tests.ResourceModel;

/// <summary>Tests of <see cref="ResourceQuantities"/>.</summary>
public sealed class ResourceQuantitiesTests
{
    private static ResourceQuantities Q(string text) => ResourceQuantities.Parse(text);

    [Fact]
    public void Parse_ReadsScalars()
    {
        var q = Q("cpus:1.5;mem:512");

        Assert.Equal(1.5, q["cpus"]);
        Assert.Equal(512.0, q["mem"]);
        Assert.Equal(1500, q.GetMillis("cpus"));
        Assert.Equal(["cpus", "mem"], q.Names);
        Assert.Equal("cpus:1.5;mem:512", q.ToString());
        Assert.False(q.IsEmpty);
    }

    [Fact]
    public void Parse_RepeatedNames_AreSummed()
    {
        Assert.Equal(3.0, Q("cpus:1;cpus:2")["cpus"]);
    }

    [Fact]
    public void Parse_CanonicalOrderAndZeroDropped()
    {
        var q = Q("zz:1;disk:4;mem:3;gpus:0;cpus:1;aa:2");

        Assert.Equal("cpus:1;mem:3;disk:4;aa:2;zz:1", q.ToString());
        Assert.DoesNotContain("gpus", q.Names);
        Assert.Equal(
            [new("cpus", 1000L), new("mem", 3000L), new("disk", 4000L), new("aa", 2000L), new KeyValuePair<string, long>("zz", 1000L)],
            q.Millis);
    }

    [Fact]
    public void Parse_StarRole_IsAccepted()
    {
        Assert.Equal(Q("cpus:1"), Q("cpus(*):1"));
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ; ")]
    [InlineData("cpus:0")]
    public void Parse_Blank_IsEmpty(string text)
    {
        var q = Q(text);

        Assert.True(q.IsEmpty);
        Assert.Equal(ResourceQuantities.Empty, q);
        Assert.Equal(string.Empty, q.ToString());
    }

    [Theory]
    [InlineData("cpus(web):1", "cpus(web):1", "no role")]
    [InlineData("cpus:1;mem(eng/web):2", "mem(eng/web):2", "no role")]
    [InlineData("ports:[1-2]", "ports:[1-2]", "scalars")]
    [InlineData("cpus:1;zones:{a}", "zones:{a}", "scalars")]
    [InlineData("cpus:x", "cpus:x", "not a number")]
    [InlineData("cpus", "cpus", "name:value")]
    public void Parse_Invalid_Throws(string text, string token, string reasonFragment)
    {
        var e = Assert.Throws<ResourceParseException>(() => Q(text));

        Assert.Equal(token, e.Token);
        Assert.Contains(reasonFragment, e.Reason);
    }

    [Fact]
    public void ParseAlternatives_SplitsOnBar()
    {
        var alts = ResourceQuantities.ParseAlternatives("cpus:0.01|mem:32");

        Assert.Equal(2, alts.Count);
        Assert.Equal(Q("cpus:0.01"), alts[0]);
        Assert.Equal(Q("mem:32"), alts[1]);
        Assert.Equal(10, alts[0].GetMillis("cpus"));
        Assert.Equal(0, alts[0].GetMillis("mem"));
    }

    [Fact]
    public void ParseAlternatives_EachAlternativeMayHaveSeveralQuantities()
    {
        var alts = ResourceQuantities.ParseAlternatives(" cpus:1;mem:64 | gpus:1 |disk:10");

        Assert.Equal(["cpus:1;mem:64", "gpus:1", "disk:10"], alts.Select(a => a.ToString()));
    }

    [Fact]
    public void ParseAlternatives_Single()
    {
        Assert.Equal([Q("cpus:1")], ResourceQuantities.ParseAlternatives("cpus:1"));
    }

    [Theory]
    [InlineData("", "")]
    [InlineData("cpus:1|", "")]
    [InlineData("|cpus:1", "")]
    [InlineData("cpus:1||mem:1", "")]
    [InlineData("cpus:1| |mem:1", " ")]
    [InlineData("cpus:1|cpus:0", "cpus:0")]
    public void ParseAlternatives_EmptyAlternative_Throws(string text, string token)
    {
        var e = Assert.Throws<ResourceParseException>(() => ResourceQuantities.ParseAlternatives(text));

        Assert.Equal(token, e.Token);
        Assert.Contains("at least one positive quantity", e.Reason);
    }

    [Theory]
    [InlineData("cpus:1|mem(web):1", "mem(web):1")]
    [InlineData("cpus:1|ports:[1-2]", "ports:[1-2]")]
    [InlineData("cpus:1|mem:abc", "mem:abc")]
    public void ParseAlternatives_InvalidAlternative_Throws(string text, string token)
    {
        var e = Assert.Throws<ResourceParseException>(() => ResourceQuantities.ParseAlternatives(text));

        Assert.Equal(token, e.Token);
    }

    [Fact]
    public void ParseAlternatives_Null_Throws()
    {
        Assert.Throws<ArgumentNullException>(() => ResourceQuantities.ParseAlternatives(null!));
    }

    [Theory]
    [InlineData("cpus:2;mem:10", "cpus:1", true)]
    [InlineData("cpus:2;mem:10", "cpus:2;mem:10", true)]
    [InlineData("cpus:2;mem:10", "cpus:2.001", false)]
    [InlineData("cpus:2;mem:10", "disk:1", false)]
    [InlineData("cpus:2;mem:10", "", true)]
    [InlineData("", "", true)]
    [InlineData("", "cpus:0.001", false)]
    [InlineData("cpus:2", "cpus:1;mem:1", false)]
    public void Contains_ComparesEveryName(string left, string right, bool expected)
    {
        Assert.Equal(expected, Q(left).Contains(Q(right)));
    }

    [Fact]
    public void Contains_Null_Throws()
    {
        Assert.Throws<ArgumentNullException>(() => Q("cpus:1").Contains(null!));
    }

    [Fact]
    public void Add_SumsByName()
    {
        var sum = Q("cpus:1;mem:10").Add(Q("cpus:0.5;disk:3"));

        Assert.Equal(Q("cpus:1.5;mem:10;disk:3"), sum);
        Assert.Equal(Q("cpus:0.3"), Q("cpus:0.1").Add(Q("cpus:0.2")));
        Assert.Equal(Q("cpus:1"), Q("cpus:1").Add(ResourceQuantities.Empty));
    }

    [Fact]
    public void SubtractSaturating_FloorsAtZeroAndDropsZeros()
    {
        var diff = Q("cpus:2;mem:10;disk:5").SubtractSaturating(Q("cpus:0.5;mem:20;gpus:1"));

        Assert.Equal(Q("cpus:1.5;disk:5"), diff);
        Assert.Equal(0.0, diff["mem"]);
        Assert.DoesNotContain("mem", diff.Names);
        Assert.True(Q("cpus:1").SubtractSaturating(Q("cpus:1")).IsEmpty);
        Assert.Equal(Q("cpus:0.2"), Q("cpus:0.3").SubtractSaturating(Q("cpus:0.1")));
    }

    [Fact]
    public void Indexer_MissingName_IsZero()
    {
        var q = Q("cpus:1");

        Assert.Equal(0.0, q["mem"]);
        Assert.Equal(0, q.GetMillis("mem"));
        Assert.Equal(0.0, ResourceQuantities.Empty["cpus"]);
    }

    [Fact]
    public void Of_BuildsFromAmounts()
    {
        var q = ResourceQuantities.Of(("mem", 512), ("cpus", 0.5), ("cpus", 0.5), ("disk", 0));

        Assert.Equal(Q("cpus:1;mem:512"), q);
        Assert.Throws<ArgumentException>(() => ResourceQuantities.Of(("cpus", -1)));
        Assert.Throws<ArgumentException>(() => ResourceQuantities.Of(("bad name", 1)));
    }

    [Fact]
    public void FromMillis_RejectsNegativeAndInvalidNames()
    {
        Assert.Throws<ArgumentException>(() => ResourceQuantities.FromMillis([new("cpus", -1)]));
        Assert.Throws<ArgumentException>(() => ResourceQuantities.FromMillis([new(string.Empty, 1)]));
        Assert.Equal(Q("cpus:0.002"), ResourceQuantities.FromMillis([new("cpus", 1), new("cpus", 1)]));
    }

    [Fact]
    public void Equals_AndHashCode_AreValueBased()
    {
        var a = Q("cpus:1;mem:2");
        var b = Q("mem:2;cpus:0.5;cpus:0.5");

        Assert.Equal(a, b);
        Assert.True(a.Equals((object)b));
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, Q("cpus:1;mem:3"));
        Assert.NotEqual(a, Q("cpus:1"));
        Assert.False(a.Equals(null));
    }

    [Fact]
    public void ToString_ReparsesToAnEqualValue()
    {
        var q = Q("cpus:0.125;mem:1024.5;disk:7;x:1");

        Assert.Equal(q, Q(q.ToString()));
    }
}
