using System.Text.Json.Nodes;

namespace DatacenterOs.Cli.Tests;

[Collection(ClusterCollection.Name)]
public sealed class JobCommandTests(ClusterFixture cluster)
{
    [Fact]
    public async Task Add_a_DAG_run_it_read_history_and_draw_the_graph()
    {
        // Children first in the file: the CLI posts parents first. Yearly schedule: only the manual run runs.
        var dag = """
            [
              {"name":"cli-load","command":"echo loaded","parents":["cli-transform"],"cpus":0.05,"mem":16},
              {"name":"cli-transform","command":"echo transformed","parents":["cli-extract"],"cpus":0.05,"mem":16},
              {"name":"cli-extract","command":"echo extracted $0","schedule":"0 0 1 1 *","scheduleTimeZone":"UTC","cpus":0.05,"mem":16}
            ]
            """;
        var add = await cluster.RunWithInputAsync(dag, "job", "add", "-");
        Assert.True(add.ExitCode == 0, add + cluster.LogText);
        Assert.Equal((0, "job cli-extract saved\njob cli-transform saved\njob cli-load saved\n", ""), (add.ExitCode, add.Out, add.Error));

        var graph = await cluster.RunAsync("job", "graph");
        Assert.Equal(0, graph.ExitCode);
        Assert.Contains("cli-extract  [0 0 1 1 *]\n└── cli-transform\n    └── cli-load\n", graph.Out);

        var dot = await cluster.RunAsync("job", "graph", "--format", "dot");
        Assert.StartsWith("digraph G {", dot.Out);
        Assert.Contains("label=\"cli-load\"", dot.Out);

        var list = await cluster.RunAsync("job", "list");
        Assert.Matches(@"\ncli-load\s+after cli-transform\s+fresh\s+idle\s+yes\n", list.Out);

        var run = await cluster.RunAsync("job", "run", "cli-extract");
        Assert.Equal((0, "job cli-extract started (see 'dcos job history cli-extract')\n"), (run.ExitCode, run.Out));

        JsonArray runs = [];
        await ClusterFixture.WaitUntilAsync(async () =>
        {
            var history = await cluster.RunAsync("job", "history", "cli-load", "--json");
            runs = JsonNode.Parse(history.Out)!.AsArray();
            return runs.Any(r => (string?)r!["state"] == "succeeded");
        }, "cli-load to succeed", 60);
        var last = runs[0]!;
        Assert.Equal("dependency", (string?)last["trigger"]);
        Assert.Equal(0, (int)last["exitCode"]!);
        var log = await cluster.RunAsync("task", "log", (string)last["taskId"]!);
        Assert.Equal((0, "loaded\n"), (log.ExitCode, log.Out));

        var table = await cluster.RunAsync("job", "history", "cli-extract");
        var lines = table.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^RUN\s+TRIGGER\s+STATE\s+EXIT\s+STARTED\s+FINISHED\s+TASK\s+REASON$", lines[0]);
        Assert.Matches(@"^cli-extract@\S+-manual#0\s+manual\s+succeeded\s+0\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\s+\S+$", lines[1]);

        var disable = await cluster.RunAsync("job", "disable", "cli-load");
        Assert.Equal(0, disable.ExitCode);
        var shown = JsonNode.Parse((await cluster.RunAsync("job", "show", "cli-load", "--json")).Out)!;
        Assert.True((bool)shown["disabled"]!);
        Assert.Equal("echo loaded", (string?)shown["command"]);

        var remove = await cluster.RunAsync("job", "remove", "cli-load");
        Assert.Equal(0, remove.ExitCode);
        var gone = await cluster.RunAsync("job", "show", "cli-load");
        Assert.Equal((1, "dcos: 404 Job 'cli-load' does not exist\n"), (gone.ExitCode, gone.Error));
    }

    [Fact]
    public async Task Invalid_job_names_the_field()
    {
        var result = await cluster.RunWithInputAsync("""{"name":"cli-orphan","command":"true","parents":["cli-nobody"]}""", "job", "add", "-");
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("dcos: 400 Job is not valid: parents: ", result.Error);
        Assert.Single(result.Error.TrimEnd('\n').Split('\n'));
    }
}
