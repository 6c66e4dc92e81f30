using Res = DatacenterOs.Kernel.Resources;

namespace DatacenterOs.Kernel.Tests.ResourceModel;

/// <summary>Arithmetic, containment, equality and filters on <see cref="Res"/>.</summary>
public sealed class ResourcesArithmeticTests
{
    private static Res P(string text) => Res.Parse(text);

    [Theory]
    [InlineData("cpus:1", "cpus:2", "cpus:3")]
    [InlineData("cpus:1", "mem:2", "cpus:1;mem:2")]
    [InlineData("cpus:1;mem:10", "cpus:0.5;disk:3", "cpus:1.5;mem:10;disk:3")]
    [InlineData("cpus(web):1", "cpus:1", "cpus:1;cpus(web):1")]
    [InlineData("cpus(web):1", "cpus(web):1", "cpus(web):2")]
    [InlineData("ports:[1-5]", "ports:[6-10]", "ports:[1-10]")]
    [InlineData("ports:[1-5]", "ports:[3-4,20-30]", "ports:[1-5,20-30]")]
    [InlineData("zones:{a}", "zones:{b,a}", "zones:{a,b}")]
    [InlineData("", "cpus:1", "cpus:1")]
    [InlineData("cpus:1", "", "cpus:1")]
    [InlineData("", "", "")]
    [InlineData("a:1;z:1", "m:1;cpus(x):1;cpus:2", "cpus:2;a:1;m:1;z:1;cpus(x):1")]
    public void Add_SumsScalarsAndUnitesRangesAndSets(string left, string right, string expected)
    {
        var sum = P(left) + P(right);

        Assert.Equal(P(expected), sum);
        Assert.Equal(expected, sum.ToString());
        Assert.Equal(sum, P(left).Add(P(right)));
        Assert.Equal(sum, P(right) + P(left));
    }

    [Fact]
    public void Add_Empty_ReturnsTheSameInstance()
    {
        var a = P("cpus:1");

        Assert.Same(a, a + Res.Empty);
        Assert.Same(a, Res.Empty + a);
    }

    [Fact]
    public void Add_SameNameAndRoleWithDifferentTypes_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => P("ports:1") + P("ports:[1-2]"));

        Assert.Contains("ports", e.Message);
    }

    [Fact]
    public void Add_Null_Throws()
    {
        Assert.Throws<ArgumentNullException>(() => P("cpus:1").Add(null!));
    }

    [Fact]
    public void Add_ScalarsAreExactFixedPoint()
    {
        var sum = P("cpus:0.1") + P("cpus:0.2");

        Assert.Equal(P("cpus:0.3"), sum);
        Assert.Equal(300, sum.ScalarMillis("cpus"));
        Assert.Equal(0.3, sum.Cpus);
        Assert.Equal("cpus:0.3", sum.ToString());
    }

    [Fact]
    public void Add_ManySmallScalars_StaysExact()
    {
        var sum = Res.Empty;
        for (var i = 0; i < 1000; i++)
        {
            sum += P("cpus:0.001");
        }

        Assert.Equal(P("cpus:1"), sum);
        Assert.Equal(1.0, sum.Cpus);
    }

    [Fact]
    public void Subtract_ExactFixedPoint()
    {
        var diff = P("cpus:0.3") - P("cpus:0.1");

        Assert.Equal(P("cpus:0.2"), diff);
        Assert.Equal(200, diff.ScalarMillis("cpus"));
    }

    [Theory]
    [InlineData("cpus:3", "cpus:1", "cpus:2")]
    [InlineData("cpus:3", "cpus:3", "")]
    [InlineData("cpus:3;mem:5", "cpus:3", "mem:5")]
    [InlineData("cpus:3;mem:5;disk:1", "mem:2", "cpus:3;mem:3;disk:1")]
    [InlineData("cpus:1;cpus(web):2", "cpus(web):0.5", "cpus:1;cpus(web):1.5")]
    [InlineData("ports:[1-10]", "ports:[4-6]", "ports:[1-3,7-10]")]
    [InlineData("ports:[1-10]", "ports:[1-10]", "")]
    [InlineData("zones:{a,b,c}", "zones:{b}", "zones:{a,c}")]
    [InlineData("zones:{a,b}", "zones:{a,b}", "")]
    [InlineData("cpus:1", "", "cpus:1")]
    [InlineData("", "", "")]
    [InlineData("a:1;cpus:2;z:3;cpus(r):1", "z:1;cpus(r):1", "cpus:2;a:1;z:2")]
    public void Subtract_RemovesContainedValues(string left, string right, string expected)
    {
        var diff = P(left) - P(right);

        Assert.Equal(P(expected), diff);
        Assert.Equal(expected, diff.ToString());
        Assert.Equal(diff, P(left).Subtract(P(right)));
    }

    [Fact]
    public void Subtract_Self_IsEmpty()
    {
        var a = P("cpus:1;mem:2;ports:[1-5];zones:{x};cpus(web):3");

        var diff = a - a;

        Assert.True(diff.IsEmpty);
        Assert.Same(Res.Empty, diff);
    }

    [Theory]
    [InlineData("cpus:1", "cpus:2")]
    [InlineData("cpus:1", "mem:1")]
    [InlineData("", "cpus:1")]
    [InlineData("cpus:1", "cpus(web):1")]
    [InlineData("cpus(web):1", "cpus:1")]
    [InlineData("cpus(web):1", "cpus(api):1")]
    [InlineData("cpus(eng):1", "cpus(eng/web):1")]
    [InlineData("ports:[1-5]", "ports:[5-6]")]
    [InlineData("ports:[1-5]", "ports(web):[1-2]")]
    [InlineData("zones:{a,b}", "zones:{c}")]
    [InlineData("zones:{a,b}", "zones:{a,c}")]
    [InlineData("cpus:1;mem:2", "cpus:1;mem:2;disk:1")]
    [InlineData("ports:[1-5]", "ports(web):[1-5]")]
    [InlineData("ports:1", "ports(x):[1-2]")]
    [InlineData("cpus:1;zones:{a}", "zones:{a};zz:1")]
    public void Subtract_NotContained_Throws(string left, string right)
    {
        var a = P(left);
        var b = P(right);

        Assert.False(a.Contains(b));
        var e = Assert.Throws<InvalidOperationException>(() => a - b);
        Assert.Contains("not contained", e.Message);
    }

    [Fact]
    public void Subtract_NotContained_MessageNamesTheMissingEntry()
    {
        var e = Assert.Throws<InvalidOperationException>(() => P("cpus:1;mem:5") - P("cpus:0.5;mem:8"));

        Assert.Contains("'mem:8'", e.Message);
    }

    [Fact]
    public void Subtract_DoesNotMutateTheOperands()
    {
        var a = P("cpus:3;ports:[1-10];zones:{a,b}");
        var b = P("cpus:1;ports:[2-3];zones:{a}");

        _ = a - b;
        _ = a + b;

        Assert.Equal("cpus:3;ports:[1-10];zones:{a,b}", a.ToString());
        Assert.Equal("cpus:1;ports:[2-3];zones:{a}", b.ToString());
    }

    [Fact]
    public void Subtract_Null_Throws()
    {
        Assert.Throws<ArgumentNullException>(() => P("cpus:1").Subtract(null!));
    }

    [Theory]
    [InlineData("cpus:2", "cpus:1", true)]
    [InlineData("cpus:2", "cpus:2", true)]
    [InlineData("cpus:2", "cpus:2.001", false)]
    [InlineData("cpus:2;mem:5", "mem:5", true)]
    [InlineData("cpus:2", "mem:1", false)]
    [InlineData("cpus:2", "", true)]
    [InlineData("", "", true)]
    [InlineData("", "cpus:1", false)]
    [InlineData("ports:[1-10]", "ports:[2-3,8-10]", true)]
    [InlineData("ports:[1-10]", "ports:[10-11]", false)]
    [InlineData("ports:[1-3,5-10]", "ports:[3-5]", false)]
    [InlineData("zones:{a,b,c}", "zones:{a,c}", true)]
    [InlineData("zones:{a,b,c}", "zones:{a,b,c}", true)]
    [InlineData("zones:{a,b}", "zones:{a,d}", false)]
    [InlineData("cpus:1", "cpus(web):1", false)]
    [InlineData("cpus(web):1", "cpus:1", false)]
    [InlineData("cpus(web):1", "cpus(api):1", false)]
    [InlineData("cpus(eng):5", "cpus(eng/web):1", false)]
    [InlineData("cpus:1;cpus(web):1", "cpus(web):1", true)]
    [InlineData("cpus:1;cpus(web):1", "cpus:1;cpus(web):1", true)]
    [InlineData("cpus:1;cpus(web):1", "cpus:2", false)]
    [InlineData("ports:1", "ports:[1-1]", false)]
    [InlineData("cpus:1;mem:1;disk:1;zones:{a}", "cpus:1;disk:1;zones:{a}", true)]
    [InlineData("cpus:1;mem:1", "cpus:1;mem:1;disk:1", false)]
    [InlineData("a:1;c:1", "b:1", false)]
    [InlineData("a:1;c:1", "c:1", true)]
    public void Contains_ComparesEntriesWithSameNameAndRole(string left, string right, bool expected)
    {
        Assert.Equal(expected, P(left).Contains(P(right)));
    }

    [Fact]
    public void Contains_Self_AndNull()
    {
        var a = P("cpus:1;ports:[1-2]");

        Assert.True(a.Contains(a));
        Assert.Throws<ArgumentNullException>(() => a.Contains(null!));
    }

    [Fact]
    public void Contains_IsImpliedByAdding()
    {
        var a = P("cpus:1;ports:[1-5];zones(web):{a}");
        var b = P("cpus:2;mem:1;ports:[3-9];zones(web):{b};cpus(web):1");

        Assert.True((a + b).Contains(a));
        Assert.True((a + b).Contains(b));
    }

    [Fact]
    public void Equals_AndHashCode_AreValueBased()
    {
        var a = P("cpus:1;mem:2;ports:[1-3];zones:{a,b};cpus(web):1");
        var b = P("cpus(web):1;zones:{b,a};ports:[1-2,3-3];mem:1;mem:1;cpus:0.5;cpus:0.5");

        Assert.Equal(a, b);
        Assert.True(a == b);
        Assert.False(a != b);
        Assert.True(a.Equals((object)b));
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
    }

    [Theory]
    [InlineData("cpus:1", "cpus:2")]
    [InlineData("cpus:1", "mem:1")]
    [InlineData("cpus:1", "cpus(web):1")]
    [InlineData("cpus(api):1", "cpus(web):1")]
    [InlineData("ports:[1-3]", "ports:[1-4]")]
    [InlineData("zones:{a}", "zones:{a,b}")]
    [InlineData("cpus:1", "cpus:1;mem:1")]
    [InlineData("cpus:1", "")]
    [InlineData("ports:[1-1]", "ports:1")]
    public void Equals_DifferentValues_AreNotEqual(string left, string right)
    {
        var a = P(left);
        var b = P(right);

        Assert.NotEqual(a, b);
        Assert.False(a == b);
        Assert.True(a != b);
    }

    [Fact]
    public void EqualityOperators_HandleNull()
    {
        Res? none = null;
        var a = P("cpus:1");

        Assert.True(none == null);
        Assert.False(a == none);
        Assert.False(none == a);
        Assert.True(a != none);
        Assert.False(a.Equals(none));
        Assert.False(a.Equals("cpus:1"));
    }

    [Fact]
    public void ScalarsAddUpExactly_ViaResources()
    {
        var a = Res.Of(Resource.CreateScalar("cpus", 0.1));
        var b = Res.Of(Resource.CreateScalar("cpus", 0.2));
        var c = Res.Of(Resource.CreateScalar("cpus", 0.3));

        Assert.Equal(c, a + b);
        Assert.True((a + b).Contains(c));
        Assert.True(c.Contains(a + b));
        Assert.True((a + b - c).IsEmpty);
    }

    [Fact]
    public void Totals_SumOverAllReservations()
    {
        var r = P("cpus:1;cpus(web):2.5;cpus(api):0.5;mem:100;mem(web):28;disk(x):7;gpus:1;gpus(y):2;ports:[1-5];ports(web):[10-12];ports(api):[4-8]");

        Assert.Equal(4.0, r.Cpus);
        Assert.Equal(128.0, r.Mem);
        Assert.Equal(7.0, r.Disk);
        Assert.Equal(3.0, r.Gpus);
        Assert.Equal(ValueRanges.Of(new ValueRange(1, 8), new ValueRange(10, 12)), r.Ports);
        Assert.Equal(4000, r.ScalarMillis("cpus"));
        Assert.Equal(3.0, r.Scalar("gpus"));
        Assert.Equal(r.Ports, r.RangesOf("ports"));
    }

    [Fact]
    public void Totals_OfMissingResources_AreZeroOrEmpty()
    {
        var r = P("zones:{a}");

        Assert.Equal(0.0, r.Cpus);
        Assert.Equal(0.0, r.Mem);
        Assert.Equal(0.0, r.Disk);
        Assert.Equal(0.0, r.Gpus);
        Assert.True(r.Ports.IsEmpty);
        Assert.Equal(0, r.ScalarMillis("zones"));
        Assert.True(r.RangesOf("zones").IsEmpty);
    }

    [Fact]
    public void ToQuantities_SumsScalarsOverRolesAndDropsNonScalars()
    {
        var q = P("cpus:1;cpus(web):2;mem(web):512;disk:0.5;ports:[1-10];zones:{a};custom(x):3").ToQuantities();

        Assert.Equal(ResourceQuantities.Parse("cpus:3;mem:512;disk:0.5;custom:3"), q);
        Assert.Equal("cpus:3;mem:512;disk:0.5;custom:3", q.ToString());
        Assert.Equal(3.0, q["cpus"]);
        Assert.Equal(0.0, q["ports"]);
        Assert.DoesNotContain("ports", q.Names);
        Assert.DoesNotContain("zones", q.Names);
    }

    [Fact]
    public void ToQuantities_OfEmpty_IsEmpty()
    {
        Assert.True(Res.Empty.ToQuantities().IsEmpty);
        Assert.True(P("ports:[1-2]").ToQuantities().IsEmpty);
    }

    [Fact]
    public void Unreserved_AndReserved_SplitTheBag()
    {
        var r = P("cpus:1;mem:2;cpus(web):3;ports(api):[1-2];zones:{a}");

        Assert.Equal(P("cpus:1;mem:2;zones:{a}"), r.Unreserved());
        Assert.Equal(P("cpus(web):3;ports(api):[1-2]"), r.Reserved());
        Assert.Equal(r, r.Unreserved() + r.Reserved());
    }

    [Fact]
    public void Unreserved_WhenAllUnreserved_ReturnsTheSameInstance()
    {
        var r = P("cpus:1;mem:2");

        Assert.Same(r, r.Unreserved());
        Assert.Same(Res.Empty, r.Reserved());
    }

    [Fact]
    public void ReservedTo_MatchesTheRoleExactly()
    {
        var r = P("cpus:1;cpus(eng):2;cpus(eng/web):3;cpus(engineering):4;mem(eng):5");

        Assert.Equal(P("cpus(eng):2;mem(eng):5"), r.ReservedTo("eng"));
        Assert.Equal(P("cpus(eng/web):3"), r.ReservedTo("eng/web"));
        Assert.Equal(P("cpus(engineering):4"), r.ReservedTo("engineering"));
        Assert.True(r.ReservedTo("ops").IsEmpty);
        Assert.True(r.ReservedTo("*").IsEmpty);
    }

    [Fact]
    public void AllocatableTo_IncludesUnreservedAndReservationsToTheRoleOrItsAncestors()
    {
        var r = P("cpus:1;cpus(eng):2;cpus(eng/web):4;cpus(eng/web/api):8;cpus(engineering):16;cpus(ops):32;mem(eng):64");

        Assert.Equal(P("cpus:1;cpus(eng):2;mem(eng):64"), r.AllocatableTo("eng"));
        Assert.Equal(P("cpus:1;cpus(eng):2;cpus(eng/web):4;mem(eng):64"), r.AllocatableTo("eng/web"));
        Assert.Equal(P("cpus:1;cpus(eng):2;cpus(eng/web):4;cpus(eng/web/api):8;mem(eng):64"), r.AllocatableTo("eng/web/api"));
        Assert.Equal(P("cpus:1;cpus(engineering):16"), r.AllocatableTo("engineering"));
        Assert.Equal(P("cpus:1;cpus(ops):32"), r.AllocatableTo("ops"));
        Assert.Equal(P("cpus:1"), r.AllocatableTo("other"));
    }

    [Fact]
    public void AllocatableTo_EngReservationGoesToEngWebButNotToEngineering()
    {
        var eng = P("cpus(eng):1");

        Assert.Equal(eng, eng.AllocatableTo("eng"));
        Assert.Equal(eng, eng.AllocatableTo("eng/web"));
        Assert.True(eng.AllocatableTo("engineering").IsEmpty);
        Assert.True(eng.AllocatableTo("en").IsEmpty);
    }

    [Fact]
    public void AllocatableTo_ChildReservationIsNotAllocatableToTheParent()
    {
        var web = P("cpus(eng/web):1");

        Assert.True(web.AllocatableTo("eng").IsEmpty);
        Assert.True(web.AllocatableTo("eng/webapp").IsEmpty);
        Assert.Equal(web, web.AllocatableTo("eng/web"));
        Assert.Equal(web, web.AllocatableTo("eng/web/x"));
    }

    [Fact]
    public void WithRole_ReservesEverythingAndMergesEntries()
    {
        var r = P("cpus:1;cpus(api):2;mem:3;ports(x):[1-2];ports:[5-6];zones:{a};zones(y):{b}");

        var web = r.WithRole("web");

        Assert.Equal(P("cpus(web):3;mem(web):3;ports(web):[1-2,5-6];zones(web):{a,b}"), web);
        Assert.All(web, x => Assert.Equal("web", x.Role));
        Assert.Equal(r.Cpus, web.Cpus);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("*")]
    public void WithRole_NullOrStar_Unreserves(string? role)
    {
        var r = P("cpus(web):1;cpus(api):2");

        Assert.Equal(P("cpus:3"), r.WithRole(role));
    }

    [Fact]
    public void WithRole_InvalidRole_Throws()
    {
        Assert.Throws<ArgumentException>(() => P("cpus:1").WithRole("a//b"));
        Assert.Throws<ArgumentException>(() => P("cpus:1").WithRole(string.Empty));
    }

    [Fact]
    public void WithRole_ConflictingTypesAcrossRoles_Throws()
    {
        var r = P("ports:1;ports(web):[1-2]");

        Assert.Throws<ArgumentException>(() => r.ToUnreserved());
    }

    [Fact]
    public void ToUnreserved_DropsAllRoles()
    {
        var r = P("cpus(web):1;cpus(eng/web):0.5;cpus:0.5;ports(a):[1-2];ports(b):[2-4]");

        var u = r.ToUnreserved();

        Assert.Equal(P("cpus:2;ports:[1-4]"), u);
        Assert.True(u.Reserved().IsEmpty);
        Assert.Equal(u, u.ToUnreserved());
    }

    [Fact]
    public void ScalarsAndNonScalars_SplitTheBag()
    {
        var r = P("cpus:1;ports:[1-2];zones:{a};mem(web):3");

        Assert.Equal(P("cpus:1;mem(web):3"), r.Scalars());
        Assert.Equal(P("ports:[1-2];zones:{a}"), r.NonScalars());
    }

    [Fact]
    public void Where_FiltersAndKeepsCanonicalOrder()
    {
        var r = P("cpus:1;mem:2;disk:3;cpus(web):4");

        Assert.Same(r, r.Where(_ => true));
        Assert.Same(Res.Empty, r.Where(_ => false));
        Assert.Equal("cpus:1;disk:3;cpus(web):4", r.Where(x => x.Name != "mem").ToString());
        Assert.Equal("mem:2;disk:3", r.Where(x => x.Name is "mem" or "disk").ToString());
        Assert.Throws<ArgumentNullException>(() => r.Where(null!));
    }

    [Fact]
    public void Of_MergesAndDropsEmptyEntries()
    {
        var r = Res.Of(
            Resource.CreateScalar("cpus", 1),
            Resource.CreateScalar("cpus", 0),
            Resource.CreateScalar("cpus", 2),
            Resource.CreateRanges("ports", ValueRanges.Empty),
            Resource.CreateSet("zones", []),
            Resource.CreateScalar("mem", 1, "web"));

        Assert.Equal("cpus:3;mem(web):1", r.ToString());
        Assert.Equal(2, r.Count);
    }

    [Fact]
    public void Of_TypeConflict_Throws()
    {
        Assert.Throws<ArgumentException>(() => Res.Of(
            Resource.CreateScalar("ports", 1),
            Resource.CreateRanges("ports", ValueRanges.Of(1, 2))));
    }

    [Fact]
    public void Empty_IsEmpty()
    {
        Assert.True(Res.Empty.IsEmpty);
        Assert.Empty(Res.Empty);
        Assert.Equal(string.Empty, Res.Empty.ToString());
        Assert.Equal(Res.Empty, Res.Of());
        Assert.True(Res.Empty.Contains(Res.Empty));
    }
}
