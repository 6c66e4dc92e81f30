using System.CommandLine;
using System.Text.Json.Nodes;

namespace DatacenterOs.Cli.Tests;

/// <summary>What needs no cluster: unreachable masters, configuration precedence, help, the DAG drawing.</summary>
public sealed class OfflineTests
{
    private static string DeadMaster() => $"http://127.0.0.1:{Testing.DcosdProcess.FreePort()}";

    [Fact]
    public async Task Unreachable_master_gives_exit_2_and_one_line()
    {
        var master = DeadMaster();
        var result = await Dcos.RunAsync(["--master", master, "app", "list"]);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal("", result.Out);
        Assert.Equal($"dcos: cannot reach {master}: connection refused\n", result.Error);
    }

    [Fact]
    public async Task Master_precedence_is_option_then_environment_then_file_then_default()
    {
        var home = Directory.CreateTempSubdirectory("dcos-cli-home-").FullName;
        var set = await Dcos.RunAsync(["config", "set", "master", "http://10.1.1.1:5050"], home: home);
        Assert.Equal(0, set.ExitCode);
        var file = Path.Combine(home, ".config", "dcos", "config.json");
        Assert.Equal("http://10.1.1.1:5050", (string?)JsonNode.Parse(File.ReadAllText(file))!["master"]);

        var fromFile = await Dcos.RunAsync(["config", "show"], home: home);
        Assert.Equal($"master = http://10.1.1.1:5050 ({file})\n", fromFile.Out);

        var env = new Dictionary<string, string?> { ["DCOS_MASTER"] = "http://10.2.2.2:5050" };
        var fromEnv = await Dcos.RunAsync(["config", "show"], env, home: home);
        Assert.Equal("master = http://10.2.2.2:5050 (DCOS_MASTER)\n", fromEnv.Out);

        var fromOption = await Dcos.RunAsync(["config", "show", "--master", "10.3.3.3:5050"], env, home: home);
        Assert.Equal("master = http://10.3.3.3:5050 (--master)\n", fromOption.Out);

        var fallback = await Dcos.RunAsync(["config", "show", "--json"]);
        Assert.Equal("default", (string?)JsonNode.Parse(fallback.Out)!["source"]);
        Assert.Equal(DcosCli.DefaultMaster, (string?)JsonNode.Parse(fallback.Out)!["master"]);

        // The precedence is the one commands use: a dead master in the environment wins over the file.
        var dead = DeadMaster();
        var used = await Dcos.RunAsync(["app", "list"], new Dictionary<string, string?> { ["DCOS_MASTER"] = dead }, home: home);
        Assert.Equal((2, $"dcos: cannot reach {dead}: connection refused\n"), (used.ExitCode, used.Error));

        var bad = await Dcos.RunAsync(["config", "set", "master", "ftp://x"], home: home);
        Assert.Equal((1, "dcos: 'ftp://x' is not a master URL (expected e.g. http://127.0.0.1:5050)\n"), (bad.ExitCode, bad.Error));
    }

    [Fact]
    public async Task Every_command_has_help_with_an_example()
    {
        var context = new CliContext { Out = TextWriter.Null, Error = TextWriter.Null, In = TextReader.Null, Environment = _ => null };
        var root = Commands.Build(context);
        var missing = new List<string>();
        void Visit(Command command, string path)
        {
            if (command.Description?.Contains("Example:", StringComparison.Ordinal) != true)
            {
                missing.Add(path);
            }

            foreach (var sub in command.Subcommands)
            {
                Visit(sub, path + " " + sub.Name);
            }
        }

        Visit(root, "dcos");
        Assert.Empty(missing);

        var help = await Dcos.RunAsync(["app", "scale", "--help"]);
        Assert.Equal(0, help.ExitCode);
        Assert.Matches(@"Example:\n\s+dcos app scale /web 3 --wait\n", help.Out);
        Assert.Contains("--wait", help.Out);
    }

    [Fact]
    public void Job_graph_text_draws_a_diamond_with_every_edge()
    {
        var text = JobGraphText.Render(
        [
            new JobGraphText.Node("a", [], "R/2026-01-01T00:00:00Z/P1D", false),
            new JobGraphText.Node("b", ["a"], null, false),
            new JobGraphText.Node("c", ["a"], null, true),
            new JobGraphText.Node("d", ["b", "c"], null, false),
            new JobGraphText.Node("solo", [], "* * * * *", false),
        ]);
        Assert.Equal(
            """
            a  [R/2026-01-01T00:00:00Z/P1D]
            ├── b
            │   └── d  (also after c)
            └── c  (disabled)
                └── d  (↑ drawn above, also after b)
            solo  [* * * * *]

            """.ReplaceLineEndings("\n"),
            text);
    }

    [Fact]
    public void Parents_are_posted_before_children()
    {
        var jobs = new[] { "{\"name\":\"c\",\"parents\":[\"b\"]}", "{\"name\":\"b\",\"parents\":[\"a\"]}", "{\"name\":\"a\"}" }
            .Select(j => JsonNode.Parse(j)!.AsObject()).ToList();
        Assert.Equal(["a", "b", "c"], Commands.OrderParentsFirst(jobs).Select(j => (string)j["name"]!));
    }
}
