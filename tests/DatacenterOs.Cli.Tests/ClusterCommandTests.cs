using System.Text.Json.Nodes;

namespace DatacenterOs.Cli.Tests;

[Collection(ClusterCollection.Name)]
public sealed class ClusterCommandTests(ClusterFixture cluster)
{
    [Fact]
    public async Task Role_weight_and_quota_show_in_role_list()
    {
        var weight = await cluster.RunAsync("role", "weight", "cli-role", "3");
        Assert.Equal((0, "role cli-role weight 3\n", ""), (weight.ExitCode, weight.Out, weight.Error));
        var quota = await cluster.RunAsync("role", "quota", "cli-role", "cpus=1.5", "mem=512");
        Assert.Equal((0, "role cli-role quota cpus=1.5 mem=512\n"), (quota.ExitCode, quota.Out));

        var list = await cluster.RunAsync("role", "list", "--json");
        Assert.Equal(0, list.ExitCode);
        var role = JsonNode.Parse(list.Out)!.AsArray().Single(r => (string?)r!["name"] == "cli-role")!;
        Assert.Equal(3.0, (double)role["weight"]!);
        Assert.Equal(1.5, (double)role["quota"]!["cpus"]!);
        Assert.Equal(512.0, (double)role["quota"]!["mem"]!);

        var table = await cluster.RunAsync("role", "list");
        Assert.Contains(table.Out.Split('\n'), l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^cli-role\s+3\s+0\.000\s+0\s+-\s+cpus=1\.5 mem=512$"));

        var bad = await cluster.RunAsync("role", "weight", "cli-role", "0");
        Assert.Equal((1, "dcos: weight must be a number greater than 0 (got 0)\n"), (bad.ExitCode, bad.Error));
        var badQuota = await cluster.RunAsync("role", "quota", "cli-role", "cpus");
        Assert.Equal(1, badQuota.ExitCode);
    }

    [Fact]
    public async Task Node_list_and_cluster_status_show_the_agent()
    {
        var nodes = await cluster.RunAsync("node", "list", "--json");
        Assert.Equal(0, nodes.ExitCode);
        var agent = Assert.Single(JsonNode.Parse(nodes.Out)!.AsArray())!;
        Assert.Equal("127.0.0.1", (string?)agent["hostname"]);
        Assert.Equal(4.0, (double)agent["resources"]!["cpus"]!);
        Assert.Equal(4096.0, (double)agent["resources"]!["mem"]!);

        var show = await cluster.RunAsync("node", "show", ((string)agent["id"]!)[..6]);
        Assert.True(show.ExitCode == 0, show.ToString());
        Assert.Contains("host        127.0.0.1:", show.Out);

        var table = await cluster.RunAsync("node", "list");
        Assert.Matches(@"^ID\s+HOST\s+ACTIVE\s+CPUS\s+MEM \(MiB\)\s+DISK \(MiB\)\s+ATTRIBUTES\n\S+\s+127\.0\.0\.1:\d+\s+yes\s+[\d.]+/4\s+\d+/4096\s+\d+/10000(\s+docker:true)?\n$", table.Out); // docker:true where a Docker daemon answers

        var status = await cluster.RunAsync("cluster", "status", "--json");
        Assert.Equal(0, status.ExitCode);
        var json = JsonNode.Parse(status.Out)!;
        Assert.Equal(cluster.Master, (string?)json["master"]);
        Assert.Equal(1, (int)json["agents"]!["active"]!);
        var frameworks = json["frameworks"]!.AsArray().Select(f => (string?)f!["name"]).Order().ToList();
        Assert.Contains("apps", frameworks);
        Assert.Contains("jobs", frameworks);

        var drain = await cluster.RunAsync("node", "drain", (string)agent["id"]!);
        Assert.Equal((1, "dcos: node drain is not supported by this master (no DRAIN_AGENT operator call)\n"), (drain.ExitCode, drain.Error));
    }

    [Fact]
    public async Task Events_stream_a_deployment()
    {
        var events = cluster.RunAsync("events", "--type", "deployment_success", "--max", "1", "--json");
        await Task.Delay(1000); // let the stream attach
        var path = Path.Combine(Directory.CreateTempSubdirectory("dcos-cli-").FullName, "ev.json");
        File.WriteAllText(path, """{"id":"/cli/evented","cmd":"sleep 1000","cpus":0.05,"mem":16,"instances":1}""");
        Assert.Equal(0, (await cluster.RunAsync("app", "add", path)).ExitCode);
        var result = await events.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(result.ExitCode == 0, result.ToString());
        var evt = JsonNode.Parse(result.Out)!;
        Assert.Equal("deployment_success", (string?)evt["eventType"]);
        Assert.Contains("/cli/evented", evt["plan"]!.ToJsonString());
        Assert.Equal(0, (await cluster.RunAsync("app", "remove", "/cli/evented")).ExitCode);
    }
}
