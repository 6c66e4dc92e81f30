
namespace DatacenterOs.Security.Tests;

/// <summary>The auth file: hashes, JSON and YAML, refused entries.</summary>
public sealed class AuthStoreTests
{
    [Fact]
    public void Secrets_are_salted_PBKDF2_hashes_that_verify_only_the_right_secret()
    {
        var a = SecretHasher.HashSecret("s3cret", 1000);
        var b = SecretHasher.HashSecret("s3cret", 1000);
        Assert.StartsWith("pbkdf2-sha256$1000$", a, StringComparison.Ordinal);
        Assert.NotEqual(a, b);
        Assert.True(SecretHasher.VerifySecret("s3cret", a));
        Assert.False(SecretHasher.VerifySecret("s3cret!", a));
        Assert.Throws<FormatException>(() => SecretHasher.VerifySecret("x", "plain"));
    }

    [Fact]
    public void Yaml_and_json_files_load_the_same_principals()
    {
        var dir = Directory.CreateTempSubdirectory("dcos-auth-").FullName;
        var hash = SecretHasher.HashSecret("pw", 1000);
        var token = SecretHasher.NewToken();
        File.WriteAllText(Path.Combine(dir, "auth.yaml"), $"""
            principals:
              - name: alice
                secretHash: "{hash}"
                permissions: [operator]
              - name: ci
                tokenHashes: ["{SecretHasher.HashToken(token)}"]
                permissions: [viewer, "apps:/team-a/*"]
                roles: [web]
            """);
        File.WriteAllText(Path.Combine(dir, "auth.json"), $$"""
            {"principals":[{"name":"alice","secretHash":"{{hash}}","permissions":["operator"]},
                           {"name":"ci","tokenHashes":["{{SecretHasher.HashToken(token)}}"],"permissions":["viewer","apps:/team-a/*"],"roles":["web"]}]}
            """);
        foreach (var file in new[] { "auth.yaml", "auth.json" })
        {
            var store = AuthStore.Load(Path.Combine(dir, file), agentSecret: "agent-secret");
            Assert.Equal(2, store.Count);
            Assert.Equal("alice", store.VerifySecret("alice", "pw"));
            Assert.Null(store.VerifySecret("alice", "wrong"));
            Assert.Null(store.VerifySecret("bob", "pw"));
            Assert.Equal("ci", store.VerifyToken(token));
            Assert.Null(store.VerifyToken(token + "x"));
            Assert.Equal(AuthStore.AgentPrincipal, store.VerifyToken("agent-secret"));
            Assert.True(store.GrantsOf("alice")!.Operator);
            Assert.Equal(["web"], store.GrantsOf("ci")!.Roles);
            Assert.True(store.GrantsOf("ci")!.CoversApp("/team-a/web"));
        }
    }

    [Theory]
    [InlineData("principals:\n  - name: x\n    secretHash: plain-text\n", "secretHash")]
    [InlineData("principals:\n  - name: x\n    tokenHashes: [abc]\n", "tokenHashes")]
    [InlineData("principals:\n  - name: x\n    permissions: [root]\n", "unknown permission 'root'")]
    [InlineData("principals:\n  - secretHash: x\n", "'name' is required")]
    [InlineData("principals:\n  - name: x\n  - name: x\n", "appears twice")]
    [InlineData("principals: [", "auth file")]
    public void Bad_files_are_refused_naming_the_field(string yaml, string expected)
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("dcos-auth-").FullName, "auth.yaml");
        File.WriteAllText(path, yaml);
        var e = Assert.Throws<FormatException>(() => AuthStore.Load(path));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }
}
