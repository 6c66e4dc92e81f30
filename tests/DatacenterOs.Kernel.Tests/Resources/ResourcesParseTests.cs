using Res = DatacenterOs.Kernel.Resources;

namespace DatacenterOs.Kernel.Tests.ResourceModel;

/// <summary>Parsing and printing of the Mesos resource text form.</summary>
public sealed class ResourcesParseTests
{
    private const string MesosExample = "cpus(web):2;mem(web):1024;cpus(*):4;mem(*):4096;ports(*):[31000-32000]";

    [Fact]
    public void Parse_MesosExample_HasTheExpectedEntries()
    {
        var r = Res.Parse(MesosExample);

        Assert.Equal(5, r.Count);
        Assert.Equal(6.0, r.Cpus);
        Assert.Equal(5120.0, r.Mem);
        Assert.Equal(ValueRanges.Of(31000, 32000), r.Ports);
        Assert.Equal(4000, r.Unreserved().ScalarMillis("cpus"));
        Assert.Equal(2000, r.ReservedTo("web").ScalarMillis("cpus"));
        Assert.Equal(1024.0, r.ReservedTo("web").Mem);
    }

    [Fact]
    public void Parse_MesosExample_RoundTripsToAnEqualValue()
    {
        var r = Res.Parse(MesosExample);

        var again = Res.Parse(r.ToString());

        Assert.Equal(r, again);
        Assert.True(r == again);
        Assert.Equal(r.GetHashCode(), again.GetHashCode());
    }

    [Fact]
    public void ToString_MesosExample_IsCanonical()
    {
        var r = Res.Parse(MesosExample);

        Assert.Equal("cpus:4;mem:4096;ports:[31000-32000];cpus(web):2;mem(web):1024", r.ToString());
    }

    [Fact]
    public void Parse_SameResourcesInAnyOrder_AreEqual()
    {
        var a = Res.Parse(MesosExample);
        var b = Res.Parse("ports:[31000-32000];mem(web):1024;mem:4096;cpus(web):2;cpus:4");

        Assert.Equal(a, b);
        Assert.Equal(a.ToString(), b.ToString());
    }

    [Fact]
    public void ToString_OrdersUnreservedFirstThenRolesOrdinally_WellKnownNamesFirst()
    {
        var r = Res.Parse("zones:{a};b:1;a:2;ports:[1-2];disk:3;mem:4;gpus:5;cpus:6;cpus(web):1;mem(api):7;cpus(api):8;Z:1");

        Assert.Equal(
            "cpus:6;gpus:5;mem:4;disk:3;ports:[1-2];Z:1;a:2;b:1;zones:{a};cpus(api):8;mem(api):7;cpus(web):1",
            r.ToString());
    }

    [Fact]
    public void Indexer_AndEnumerator_FollowCanonicalOrder()
    {
        var r = Res.Parse("mem(web):1;ports:[1-2];cpus:1;mem:2");

        Assert.Equal(["cpus", "mem", "ports", "mem"], r.Select(x => x.Name));
        Assert.Equal([null, null, null, "web"], r.Select(x => x.Role));
        Assert.Equal("cpus", r[0].Name);
        Assert.Equal("web", r[3].Role);
        Assert.Equal(ResourceType.Ranges, r[2].Type);
    }

    [Fact]
    public void Parse_StarRoleAndNoRole_AreBothUnreserved()
    {
        var star = Res.Parse("cpus(*):1");
        var none = Res.Parse("cpus:1");

        Assert.Equal(none, star);
        Assert.False(star[0].IsReserved);
        Assert.Null(star[0].Role);
        Assert.Equal("cpus:1", star.ToString());
    }

    [Fact]
    public void Parse_HierarchicalRole_IsKept()
    {
        var r = Res.Parse("cpus(eng/web/api):1.5");

        Assert.Equal("eng/web/api", r[0].Role);
        Assert.True(r[0].IsReserved);
        Assert.Equal("cpus(eng/web/api):1.5", r.ToString());
    }

    [Theory]
    [InlineData("cpus:1;cpus:2", "cpus:3")]
    [InlineData("cpus:0.5;cpus:0.25;cpus:0.25", "cpus:1")]
    [InlineData("cpus(web):1;cpus(web):2;cpus:1", "cpus:1;cpus(web):3")]
    [InlineData("cpus(*):1;cpus:2", "cpus:3")]
    [InlineData("ports:[1-5];ports:[10-20]", "ports:[1-5,10-20]")]
    [InlineData("ports:[1-5];ports:[3-8]", "ports:[1-8]")]
    [InlineData("ports:[1-5];ports:[6-8]", "ports:[1-8]")]
    [InlineData("ports:[10-20,1-5]", "ports:[1-5,10-20]")]
    [InlineData("zones:{b,a};zones:{c,a}", "zones:{a,b,c}")]
    [InlineData("zones:{a,a,b}", "zones:{a,b}")]
    [InlineData("zones(x):{a};zones:{a}", "zones:{a};zones(x):{a}")]
    public void Parse_RepeatedEntries_Merge(string text, string expected)
    {
        var r = Res.Parse(text);

        Assert.Equal(expected, r.ToString());
        Assert.Equal(Res.Parse(expected), r);
    }

    [Theory]
    [InlineData("  cpus : 1 ; mem : 2  ")]
    [InlineData("cpus:1;;mem:2;")]
    [InlineData(";cpus:1 ;\tmem:2\n")]
    [InlineData(" cpus ( * ) : 1 ; mem:2")]
    public void Parse_ToleratesWhitespaceAndEmptyEntries(string text)
    {
        Assert.Equal("cpus:1;mem:2", Res.Parse(text).ToString());
    }

    [Fact]
    public void Parse_WhitespaceInsideRoleRangesAndSets_IsIgnored()
    {
        var r = Res.Parse("cpus( web ):1; ports( web ): [ 1 - 2 , 5 - 6 ] ; zones:{ a , b }");

        Assert.Equal("zones:{a,b};cpus(web):1;ports(web):[1-2,5-6]", r.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(";")]
    [InlineData(" ; ; ")]
    public void Parse_BlankText_IsEmpty(string text)
    {
        var r = Res.Parse(text);

        Assert.True(r.IsEmpty);
        Assert.Empty(r);
        Assert.Equal(Res.Empty, r);
        Assert.Equal(string.Empty, r.ToString());
    }

    [Theory]
    [InlineData("cpus:0")]
    [InlineData("cpus:0.0")]
    [InlineData("cpus:0.0001")]
    [InlineData("mem(web):0")]
    [InlineData("ports:[]")]
    [InlineData("zones:{}")]
    [InlineData("zones:{ }")]
    public void Parse_ZeroOrEmptyValues_AreDropped(string text)
    {
        Assert.True(Res.Parse(text).IsEmpty);
    }

    [Fact]
    public void Parse_ZeroScalar_IsDroppedButOthersKept()
    {
        Assert.Equal("mem:5", Res.Parse("cpus:0;mem:5").ToString());
    }

    [Theory]
    [InlineData("cpus:1.5", 1500)]
    [InlineData("cpus:0.001", 1)]
    [InlineData("cpus:.5", 500)]
    [InlineData("cpus:2.", 2000)]
    [InlineData("cpus:1e3", 1_000_000)]
    [InlineData("cpus:1.0005", 1001)]
    [InlineData("cpus:1.2344", 1234)]
    [InlineData("cpus:0.1", 100)]
    [InlineData("mem:9000000000000", 9_000_000_000_000_000)]
    public void Parse_Scalar_IsFixedPointWithThreeDecimals(string text, long millis)
    {
        Assert.Equal(millis, Res.Parse(text)[0].ScalarMillis);
    }

    [Theory]
    [InlineData("cpus:1.5", "cpus:1.5")]
    [InlineData("cpus:1.500", "cpus:1.5")]
    [InlineData("cpus:2.0", "cpus:2")]
    [InlineData("cpus:0.125", "cpus:0.125")]
    [InlineData("cpus:0.1250001", "cpus:0.125")]
    [InlineData("mem:1e3", "mem:1000")]
    [InlineData("ports:[5-5]", "ports:[5-5]")]
    [InlineData("ports:[5]", "ports:[5-5]")]
    [InlineData("ports:[0-0]", "ports:[0-0]")]
    [InlineData("zones:{b,a}", "zones:{a,b}")]
    [InlineData("a.b/c_d-e:1", "a.b/c_d-e:1")]
    [InlineData("zones:{a:b}", "zones:{a:b}")]
    public void ToString_PrintsCanonicalValues(string text, string expected)
    {
        var r = Res.Parse(text);

        Assert.Equal(expected, r.ToString());
        Assert.Equal(r, Res.Parse(r.ToString()));
    }

    [Fact]
    public void ToString_OfEveryKindAndRole_ReparsesToAnEqualValue()
    {
        var r = Res.Parse("cpus:0.001;gpus(a/b):1;mem(web):1024.5;disk:10;ports(web):[1-2,4-4,100-200];zones(x):{z,y};custom:3.25");

        var printed = r.ToString();
        var again = Res.Parse(printed);

        Assert.Equal(r, again);
        Assert.Equal(printed, again.ToString());
    }

    [Fact]
    public void TryParse_ValidText_ReturnsTrueAndTheResources()
    {
        Assert.True(Res.TryParse("cpus:1", out var r, out var error));
        Assert.Null(error);
        Assert.Equal(1.0, r.Cpus);
    }

    [Fact]
    public void TryParse_InvalidText_ReturnsFalseEmptyAndTheMessage()
    {
        Assert.False(Res.TryParse("cpus:1;mem", out var r, out var error));
        Assert.Same(Res.Empty, r);
        Assert.NotNull(error);
        Assert.Contains("'mem'", error);
    }

    [Fact]
    public void Parse_Null_Throws()
    {
        Assert.Throws<ArgumentNullException>(() => Res.Parse(null!));
    }

    [Theory]
    // Missing colon.
    [InlineData("cpus:1;mem", "mem", "name:value")]
    [InlineData("cpus", "cpus", "name:value")]
    [InlineData("cpus(web)", "cpus(web)", "name:value")]
    // Parentheses.
    [InlineData("cpus(web:1", "cpus(web:1", "missing ')'")]
    [InlineData("cpus(web)x:1", "cpus(web)x:1", "missing ')'")]
    [InlineData("cpusweb):1", "cpusweb):1", "')' without '('")]
    [InlineData("cpus():1", "cpus():1", "empty role")]
    [InlineData("cpus( ):1", "cpus( ):1", "empty role")]
    // Invalid roles.
    [InlineData("cpus(/x):1", "cpus(/x):1", "must not start or end with '/'")]
    [InlineData("cpus(x/):1", "cpus(x/):1", "must not start or end with '/'")]
    [InlineData("cpus(a//b):1", "cpus(a//b):1", "'//'")]
    [InlineData("cpus(-a):1", "cpus(-a):1", "starting with '-'")]
    [InlineData("cpus(a/-b):1", "cpus(a/-b):1", "starting with '-'")]
    [InlineData("cpus(.):1", "cpus(.):1", "'.' or '..'")]
    [InlineData("cpus(a/..):1", "cpus(a/..):1", "'.' or '..'")]
    [InlineData("cpus(a b):1", "cpus(a b):1", "invalid character")]
    [InlineData("cpus(a*):1", "cpus(a*):1", "invalid character '*'")]
    [InlineData("cpus(a(b)):1", "cpus(a(b)):1", "invalid character '('")]
    [InlineData("cpus(a\\b):1", "cpus(a\\b):1", "invalid character '\\'")]
    // Bad numbers.
    [InlineData("cpus:abc", "cpus:abc", "'abc' is not a number")]
    [InlineData("cpus:-1", "cpus:-1", "'-1' is not a number")]
    [InlineData("cpus:+1", "cpus:+1", "'+1' is not a number")]
    [InlineData("cpus:1,5", "cpus:1,5", "'1,5' is not a number")]
    [InlineData("cpus:1.2.3", "cpus:1.2.3", "is not a number")]
    [InlineData("cpus:NaN", "cpus:NaN", "NaN")]
    [InlineData("cpus:1e400", "cpus:1e400", "'1e400'")]
    [InlineData("cpus:1e16", "cpus:1e16", "out of range")]
    [InlineData("mem:", "mem:", "missing value")]
    [InlineData("mem:  ", "mem:", "missing value")]
    // Bad ranges.
    [InlineData("ports:[5-1]", "ports:[5-1]", "ends before it begins")]
    [InlineData("ports:[a-b]", "ports:[a-b]", "range 'a-b' is not 'begin-end'")]
    [InlineData("ports:[1-b]", "ports:[1-b]", "range '1-b'")]
    [InlineData("ports:[1-2", "ports:[1-2", "missing ']'")]
    [InlineData("ports:[1-2,3-4", "ports:[1-2,3-4", "missing ']'")]
    [InlineData("ports:[-1-5]", "ports:[-1-5]", "non-negative")]
    [InlineData("ports:[1--5]", "ports:[1--5]", "non-negative")]
    [InlineData("ports:[1-2-3]", "ports:[1-2-3]", "range '1-2-3'")]
    [InlineData("ports:[1.5-2]", "ports:[1.5-2]", "range '1.5-2'")]
    [InlineData("ports:[99999999999999999999-1]", "ports:[99999999999999999999-1]", "not 'begin-end'")]
    // Bad sets.
    [InlineData("zones:{a,b", "zones:{a,b", "missing '}'")]
    [InlineData("zones:{a,,b}", "zones:{a,,b}", "empty item")]
    [InlineData("zones:{a,}", "zones:{a,}", "empty item")]
    [InlineData("zones:{,a}", "zones:{,a}", "empty item")]
    [InlineData("zones:{a, ,b}", "zones:{a, ,b}", "empty item")]
    // Invalid names.
    [InlineData(":1", ":1", "name must not be empty")]
    [InlineData("(web):1", "(web):1", "name must not be empty")]
    [InlineData("cp us:1", "cp us:1", "may contain only")]
    [InlineData("cpu$:1", "cpu$:1", "may contain only")]
    [InlineData("cpus[0]:1", "cpus[0]:1", "may contain only")]
    public void Parse_BadEntry_ThrowsWithTheEntryAsToken(string text, string token, string reasonFragment)
    {
        var e = Assert.Throws<ResourceParseException>(() => Res.Parse(text));

        Assert.Equal(token, e.Token);
        Assert.Contains(reasonFragment, e.Reason);
        Assert.Equal($"invalid resource '{token}': {e.Reason}", e.Message);
        Assert.IsAssignableFrom<FormatException>(e);
    }

    [Fact]
    public void Parse_RangesWithAnEmptyPart_ThrowsResourceParseException()
    {
        foreach (var text in new[] { "ports:[1-2,]", "ports:[,]", "ports:[1-2, ]", "ports:[1-2,,3-4]" })
        {
            var e = Assert.Throws<ResourceParseException>(() => Res.Parse(text));
            Assert.Equal(text, e.Token);
            Assert.False(Res.TryParse(text, out _, out _));
        }
    }

    [Fact]
    public void ToString_OfALargeSum_Reparses()
    {
        var big = Res.Parse("mem:9000000000000");
        var sum = big + big;

        Assert.Equal(sum, Res.Parse(sum.ToString()));
    }

    [Fact]
    public void ToString_OfSetsBuiltInCode_Reparses()
    {
        foreach (var item in new[] { "a,b", "c}", " a", "a;b" })
        {
            Res r;
            try
            {
                r = Res.Of(Resource.CreateSet("z", [item]));
            }
            catch (ArgumentException)
            {
                continue; // Rejecting the item is fine too.
            }

            Assert.Equal(r, Res.Parse(r.ToString()));
        }
    }

    [Fact]
    public void Parse_BadEntryAmongGoodOnes_NamesOnlyTheBadEntry()
    {
        var e = Assert.Throws<ResourceParseException>(() => Res.Parse("cpus:1; mem:2 ; ports:[9-3] ;disk:4"));

        Assert.Equal("ports:[9-3]", e.Token);
        Assert.Equal("invalid resource 'ports:[9-3]': range '9-3' ends before it begins", e.Message);
    }

    [Theory]
    [InlineData("ports:1;ports:[1-2]")]
    [InlineData("ports:[1-2];ports:1")]
    [InlineData("zones:{a};zones:1")]
    [InlineData("zones:{a};zones:[1-2]")]
    [InlineData("cpus:1;mem:2;ports(web):1;ports(web):[1-2]")]
    public void Parse_SameNameAndRoleWithTwoTypes_Throws(string text)
    {
        var e = Assert.Throws<ResourceParseException>(() => Res.Parse(text));

        // The conflict involves two entries, so the whole text is reported as the token.
        Assert.Equal(text, e.Token);
        Assert.Contains("is both", e.Reason);
        Assert.StartsWith("invalid resource '", e.Message);
    }

    [Fact]
    public void Parse_TypeConflict_MessageNamesBothEntries()
    {
        var e = Assert.Throws<ResourceParseException>(() => Res.Parse("ports:1;ports:[1-2]"));

        Assert.Contains("'ports'", e.Reason);
        Assert.Contains("'ports:1'", e.Reason);
        Assert.Contains("'ports:[1-2]'", e.Reason);
        Assert.Contains("Scalar", e.Reason);
        Assert.Contains("Ranges", e.Reason);
    }

    [Fact]
    public void Parse_SameNameWithTwoTypesInDifferentRoles_IsAllowed()
    {
        var r = Res.Parse("ports:1;ports(web):[1-2]");

        Assert.Equal(2, r.Count);
        Assert.Equal("ports:1;ports(web):[1-2]", r.ToString());
    }

    [Fact]
    public void ResourceParseException_Constructors_SetTokenAndReason()
    {
        var withToken = new ResourceParseException("cpus:x", "bad");
        Assert.Equal("cpus:x", withToken.Token);
        Assert.Equal("bad", withToken.Reason);
        Assert.Equal("invalid resource 'cpus:x': bad", withToken.Message);

        var empty = new ResourceParseException();
        Assert.Equal(string.Empty, empty.Token);
        Assert.Equal("invalid resources", empty.Reason);

        var messageOnly = new ResourceParseException("oops");
        Assert.Equal(string.Empty, messageOnly.Token);
        Assert.Equal("oops", messageOnly.Reason);

        var inner = new InvalidOperationException("inner");
        var wrapped = new ResourceParseException("outer", inner);
        Assert.Same(inner, wrapped.InnerException);
        Assert.Equal("outer", wrapped.Message);
        Assert.Equal("outer", wrapped.Reason);
        Assert.Equal(string.Empty, wrapped.Token);
    }
}
