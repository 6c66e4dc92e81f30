namespace DatacenterOs.Kernel.Tests.ResourceModel;

/// <summary>Tests of <see cref="RolePath"/>.</summary>
public sealed class RolePathTests
{
    [Theory]
    [InlineData("*")]
    [InlineData("web")]
    [InlineData("eng/web")]
    [InlineData("eng/web/api")]
    [InlineData("a-b")]
    [InlineData("a.b")]
    [InlineData("...")]
    [InlineData("a/.b")]
    [InlineData("x_y")]
    [InlineData("Role9")]
    public void Validate_ValidRole_ReturnsNull(string role)
    {
        Assert.Null(RolePath.Validate(role));
        Assert.Same(role, RolePath.Require(role));
    }

    [Theory]
    [InlineData(null, "must not be empty")]
    [InlineData("", "must not be empty")]
    [InlineData("/x", "must not start or end with '/'")]
    [InlineData("x/", "must not start or end with '/'")]
    [InlineData("/", "must not start or end with '/'")]
    [InlineData("a//b", "must not contain '//'")]
    [InlineData(".", "'.' or '..'")]
    [InlineData("..", "'.' or '..'")]
    [InlineData("a/./b", "'.' or '..'")]
    [InlineData("a/..", "'.' or '..'")]
    [InlineData("-a", "starting with '-'")]
    [InlineData("a/-b", "starting with '-'")]
    [InlineData("a b", "invalid character ' '")]
    [InlineData("a\tb", "invalid character")]
    [InlineData("a\nb", "invalid character")]
    [InlineData("a*", "invalid character '*'")]
    [InlineData("*/a", "invalid character '*'")]
    [InlineData("**", "invalid character '*'")]
    [InlineData("a(b", "invalid character '('")]
    [InlineData("a)b", "invalid character ')'")]
    [InlineData("a;b", "invalid character ';'")]
    [InlineData("a:b", "invalid character ':'")]
    [InlineData("a,b", "invalid character ','")]
    [InlineData("a\\b", "invalid character '\\'")]
    public void Validate_InvalidRole_ReturnsTheReason(string? role, string reasonFragment)
    {
        var error = RolePath.Validate(role);

        Assert.NotNull(error);
        Assert.Contains(reasonFragment, error);
        var e = Assert.Throws<ArgumentException>(() => RolePath.Require(role));
        Assert.Contains(reasonFragment, e.Message);
        Assert.Equal("role", e.ParamName);
    }

    [Fact]
    public void Require_UsesTheGivenParameterName()
    {
        var e = Assert.Throws<ArgumentException>(() => RolePath.Require("a//b", "parent"));

        Assert.Equal("parent", e.ParamName);
    }

    [Theory]
    [InlineData("eng", "eng", true)]
    [InlineData("eng/web", "eng", true)]
    [InlineData("eng/web/api", "eng", true)]
    [InlineData("eng/web/api", "eng/web", true)]
    [InlineData("engineering", "eng", false)]
    [InlineData("eng", "engineering", false)]
    [InlineData("eng", "eng/web", false)]
    [InlineData("eng/webapp", "eng/web", false)]
    [InlineData("en", "eng", false)]
    [InlineData("ops/eng", "eng", false)]
    [InlineData("web", "eng", false)]
    [InlineData("eng-web", "eng", false)]
    public void IsWithin_MatchesWholeComponents(string role, string ancestor, bool expected)
    {
        Assert.Equal(expected, RolePath.IsWithin(role, ancestor));
    }

    [Theory]
    [InlineData("a/b/c", "a/b")]
    [InlineData("a/b", "a")]
    [InlineData("a", null)]
    [InlineData("*", null)]
    public void Parent_DropsTheLastComponent(string role, string? expected)
    {
        Assert.Equal(expected, RolePath.Parent(role));
    }

    [Theory]
    [InlineData("eng/web", "eng")]
    [InlineData("eng/web/api", "eng")]
    [InlineData("eng", "eng")]
    public void TopLevel_IsTheFirstComponent(string role, string expected)
    {
        Assert.Equal(expected, RolePath.TopLevel(role));
    }

    [Fact]
    public void SelfAndAncestors_NearestFirst()
    {
        Assert.Equal(["a/b/c", "a/b", "a"], RolePath.SelfAndAncestors("a/b/c"));
        Assert.Equal(["a"], RolePath.SelfAndAncestors("a"));
    }

    [Fact]
    public void SelfAndAncestors_AreAllAncestorsPerIsWithin()
    {
        const string role = "x/y/z/w";

        foreach (var ancestor in RolePath.SelfAndAncestors(role))
        {
            Assert.True(RolePath.IsWithin(role, ancestor));
        }

        Assert.Equal(RolePath.TopLevel(role), RolePath.SelfAndAncestors(role).Last());
    }

    [Fact]
    public void Default_IsStar()
    {
        Assert.Equal("*", RolePath.Default);
    }
}
