namespace DatacenterOs.Apps.Core.Tests;

public sealed class PathIdTests
{
    [Fact]
    public void Parses_absolute_ids_into_segments()
    {
        var id = PathId.Parse("/prod/web/frontend");

        Assert.True(id.IsAbsolute);
        Assert.Equal(["prod", "web", "frontend"], id.Segments);
        Assert.Equal("frontend", id.Name);
        Assert.Equal("/prod/web/frontend", id.ToString());
        Assert.Equal("prod_web_frontend", id.SafePath);
    }

    [Fact]
    public void Parsing_is_lenient_like_Marathon_and_drops_empty_segments()
    {
        Assert.Equal("/a/b", PathId.Parse("//a//b/").ToString());
        Assert.Equal("a/b", PathId.Parse("a/b").ToString());
        Assert.False(PathId.Parse("a/b").IsAbsolute);
        Assert.True(PathId.Parse("/").IsRoot);
    }

    [Theory]
    [InlineData("frontend", "/prod/web", "/prod/web/frontend")]
    [InlineData("./frontend", "/prod/web", "/prod/web/frontend")]
    [InlineData("../db", "/prod/web", "/prod/db")]
    [InlineData("../../../../x", "/prod/web", "/x")]
    [InlineData("/abs/app", "/prod/web", "/abs/app")]
    [InlineData("/a/./b/../c", "/", "/a/c")]
    [InlineData("basic-0", "/", "/basic-0")]
    public void Canonicalizes_relative_ids_against_a_base_group(string raw, string baseGroup, string expected)
    {
        var canonical = PathId.Parse(raw).Canonicalize(PathId.Parse(baseGroup));

        Assert.Equal(expected, canonical.ToString());
        Assert.True(canonical.IsAbsolute);
    }

    [Fact]
    public void Canonicalize_requires_an_absolute_base()
    {
        Assert.Throws<ArgumentException>(() => PathId.Parse("a").Canonicalize(PathId.Parse("relative")));
    }

    [Fact]
    public void Parent_child_and_ancestry()
    {
        var id = PathId.Parse("/prod/web/frontend");

        Assert.Equal(PathId.Parse("/prod/web"), id.Parent);
        Assert.Equal(PathId.Root, PathId.Parse("/prod").Parent);
        Assert.Equal(PathId.Root, PathId.Root.Parent);
        Assert.True(id.IsChildOf(PathId.Parse("/prod/web")));
        Assert.False(id.IsChildOf(PathId.Parse("/prod")));
        Assert.True(id.IsWithin(PathId.Parse("/prod")));
        Assert.True(id.IsWithin(PathId.Root));
        Assert.False(PathId.Parse("/production").IsWithin(PathId.Parse("/prod")));
        Assert.True(PathId.Parse("/prod").IsTopLevel);
        Assert.Equal("/prod/web/frontend/api", id.Append("api").ToString());
    }

    [Fact]
    public void Equality_and_ordinal_ordering_by_segments()
    {
        Assert.Equal(PathId.Parse("/a/b"), PathId.Parse("/a/b/"));
        Assert.NotEqual(PathId.Parse("/a/b"), PathId.Parse("a/b"));
        Assert.Equal(PathId.Parse("/a/b").GetHashCode(), PathId.Parse("/a//b").GetHashCode());

        var sorted = new[] { "/b", "/a/c", "/a", "/a/b", "/B" }.Select(PathId.Parse).Order().Select(p => p.ToString());
        Assert.Equal(["/B", "/a", "/a/b", "/a/c", "/b"], sorted);
        Assert.True(PathId.Parse("/a") < PathId.Parse("/a/b"));

        // Segments compare as a whole: "/a/b" sorts before "/a-b" although '-' < '/' in the plain strings.
        Assert.True(PathId.Parse("/a/b") < PathId.Parse("/a-b"));
        Assert.True(string.CompareOrdinal("/a-b", "/a/b") < 0);
    }

    [Theory]
    [InlineData("/prod/web-1/frontend")]
    [InlineData("/a.b/c-d.e")]
    [InlineData("/0/9z")]
    [InlineData("relative/app")]
    [InlineData("../sibling")]
    public void Valid_ids(string raw)
    {
        Assert.Empty(PathId.Validate(raw));
        Assert.True(PathId.IsValid(raw));
    }

    [Theory]
    [InlineData("/Prod", "must fully match regular expression")]
    [InlineData("/-web", "must fully match regular expression")]
    [InlineData("/web-", "must fully match regular expression")]
    [InlineData("/we_b", "must fully match regular expression")]
    [InlineData("/a..b", "must fully match regular expression")]
    [InlineData("/app/restart", "must not end with any of the following reserved keywords: restart, tasks, versions, ., ..")]
    [InlineData("/app/tasks", "reserved keywords")]
    [InlineData("/app/versions", "reserved keywords")]
    [InlineData("/app/..", "reserved keywords")]
    [InlineData("/app/", "must not end with '/'")]
    [InlineData("/a//b", "must not contain empty path segments")]
    public void Invalid_ids_carry_Marathons_messages(string raw, string fragment)
    {
        var errors = PathId.Validate(raw);

        Assert.Contains(errors, e => e.Contains(fragment, StringComparison.Ordinal));
    }
}
