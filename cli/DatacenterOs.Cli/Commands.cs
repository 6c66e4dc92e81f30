using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using DatacenterOs.Kernel.Contracts;

namespace DatacenterOs.Cli;

/// <summary>Builds the command tree and holds the helpers every command uses.</summary>
internal static partial class Commands
{
    /// <summary>The root command with every sub-command.</summary>
    public static RootCommand Build(CliContext context)
    {
        var master = new Option<string?>("--master", "-m")
        {
            Description = "Master URL (overrides DCOS_MASTER and the configuration file)",
            Recursive = true,
        };
        var root = new RootCommand(
            "dcos: command line for DatacenterOs over the HTTP APIs of any master.\n"
            + "The master is --master, else $DCOS_MASTER, else 'master' in ~/.config/dcos/config.json, else " + DcosCli.DefaultMaster + ".\n"
            + "Exit codes: 0 ok, 1 user error (bad input, unknown id, refused request, failed deployment), 2 master unreachable.\n\n"
            + "Example:\n  dcos --master http://127.0.0.1:5050 cluster status")
        {
            master,
        };
        var env = new Env(context, master);
        root.Add(ConfigCommand(env));
        root.Add(AuthCommand(env));
        root.Add(ClusterCommand(env));
        root.Add(AppCommand(env));
        root.Add(DeploymentCommand(env));
        root.Add(JobCommand(env));
        root.Add(NodeCommand(env));
        root.Add(TaskCommand(env));
        root.Add(RoleCommand(env));
        root.Add(EventsCommand(env));
        return root;
    }

    /// <summary>What command builders share: the context and the global <c>--master</c> option.</summary>
    internal sealed record Env(CliContext Context, Option<string?> Master);

    /// <summary>A command whose help ends with an example.</summary>
    private static Command Cmd(string name, string description, string example) =>
        new(name, description + "\n\nExample:\n  " + example.Replace("\n", "\n  ", StringComparison.Ordinal));

    private static Option<bool> JsonOption() => new("--json") { Description = "Machine output: JSON with stable field names" };

    /// <summary>Sets the action of <paramref name="command"/>: a session with the resolved master, errors reported as one line.</summary>
    private static void Handle(this Command command, Env env, Func<Session, ParseResult, CancellationToken, Task<int>> handler) =>
        command.SetAction(async (parse, ct) =>
        {
            Uri master;
            try
            {
                master = ResolveMaster(env.Context, parse.GetValue(env.Master));
            }
            catch (UserException e)
            {
                return await DcosCli.ReportAsync(env.Context, e, ct).ConfigureAwait(false);
            }

            using var session = new Session(env.Context, master);
            try
            {
                return await handler(session, parse, ct).ConfigureAwait(false);
            }
            catch (HttpRequestException e)
            {
                if (e.Data["dcos.target"] is null)
                {
                    e.Data["dcos.target"] = master.AbsoluteUri.TrimEnd('/');
                }

                return await DcosCli.ReportAsync(env.Context, e, ct).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                return await DcosCli.ReportAsync(env.Context, e, ct).ConfigureAwait(false);
            }
        });

    /// <summary>The master: <c>--master</c>, else <c>DCOS_MASTER</c>, else the configuration file, else the default.</summary>
    /// <exception cref="UserException">The URL is not an absolute http(s) URL, or the configuration file is unreadable.</exception>
    internal static Uri ResolveMaster(CliContext context, string? option)
    {
        var text = !string.IsNullOrWhiteSpace(option) ? option
            : context.Environment("DCOS_MASTER") is { Length: > 0 } fromEnv ? fromEnv
            : CliConfig.Load(context).Master ?? DcosCli.DefaultMaster;
        return ParseMasterUrl(text);
    }

    internal static Uri ParseMasterUrl(string text)
    {
        text = text.Trim();
        if (!text.Contains("://", StringComparison.Ordinal))
        {
            text = "http://" + text;
        }

        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new UserException($"'{text}' is not a master URL (expected e.g. http://127.0.0.1:5050)");
        }

        return uri;
    }

    // ---- config ---------------------------------------------------------------------------------------------------

    private static Command ConfigCommand(Env env)
    {
        var config = new Command("config", "Show or change the CLI configuration (~/.config/dcos/config.json).\n\nExample:\n  dcos config set master http://10.0.0.1:5050");
        var key = new Argument<string>("KEY") { Description = "Setting name: master" };
        var value = new Argument<string>("VALUE") { Description = "New value" };
        var set = Cmd("set", "Stores a setting in the configuration file.", "dcos config set master http://10.0.0.1:5050");
        set.Add(key);
        set.Add(value);
        set.SetAction(parse => Run(env.Context, () =>
        {
            var name = parse.GetValue(key)!;
            if (name != "master")
            {
                throw new UserException($"unknown setting '{name}' (known: master)");
            }

            var url = ParseMasterUrl(parse.GetValue(value)!);
            var current = CliConfig.Load(env.Context);
            CliConfig.Save(env.Context, current with { Master = url.AbsoluteUri.TrimEnd('/') });
            env.Context.Out.WriteLine($"master = {url.AbsoluteUri.TrimEnd('/')} ({env.Context.ConfigPath})");
        }));

        var unset = Cmd("unset", "Removes a setting from the configuration file.", "dcos config unset master");
        var unsetKey = new Argument<string>("KEY") { Description = "Setting name: master" };
        unset.Add(unsetKey);
        unset.SetAction(parse => Run(env.Context, () =>
        {
            if (parse.GetValue(unsetKey) != "master")
            {
                throw new UserException($"unknown setting '{parse.GetValue(unsetKey)}' (known: master)");
            }

            CliConfig.Save(env.Context, CliConfig.Load(env.Context) with { Master = null });
        }));

        var show = Cmd("show", "Shows the effective master and where it comes from.", "dcos config show --json");
        var json = JsonOption();
        show.Add(json);
        show.SetAction(parse => Run(env.Context, () =>
        {
            var option = parse.GetValue(env.Master);
            var fromEnv = env.Context.Environment("DCOS_MASTER");
            var fromFile = CliConfig.Load(env.Context).Master;
            var (master, source) = !string.IsNullOrWhiteSpace(option) ? (option, "--master")
                : !string.IsNullOrEmpty(fromEnv) ? (fromEnv, "DCOS_MASTER")
                : fromFile is not null ? (fromFile, env.Context.ConfigPath)
                : (DcosCli.DefaultMaster, "default");
            master = ParseMasterUrl(master).AbsoluteUri.TrimEnd('/');
            if (parse.GetValue(json))
            {
                env.Context.Out.WriteLine(new JsonObject { ["master"] = master, ["source"] = source, ["configFile"] = env.Context.ConfigPath }.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            }
            else
            {
                env.Context.Out.WriteLine($"master = {master} ({source})");
            }
        }));

        config.Add(set);
        config.Add(unset);
        config.Add(show);
        return config;
    }

    private static int Run(CliContext context, Action action)
    {
        try
        {
            action();
            return DcosCli.Ok;
        }
        catch (Exception e)
        {
            return DcosCli.ReportAsync(context, e, CancellationToken.None).GetAwaiter().GetResult();
        }
    }

    // ---- cluster --------------------------------------------------------------------------------------------------

    private static Command ClusterCommand(Env env)
    {
        var cluster = new Command("cluster", "The cluster as a whole.\n\nExample:\n  dcos cluster status");
        var status = Cmd("status", "Leader, agents, resources (total, used), frameworks, apps and jobs.", "dcos cluster status --json");
        var json = JsonOption();
        status.Add(json);
        status.Handle(env, async (s, parse, ct) =>
        {
            var state = await s.Operator.GetStateAsync(ct).ConfigureAwait(false);
            var master = await s.Operator.GetMasterStateAsync(ct).ConfigureAwait(false);
            var apps = await s.Apps.ListAppsAsync(cancellationToken: ct).ConfigureAwait(false);
            var jobs = await s.Jobs.ListJobsAsync(ct).ConfigureAwait(false);
            var agents = state.GetAgents.Agents;
            var total = Sum(agents.SelectMany(a => a.TotalResources));
            var used = Sum(agents.SelectMany(a => a.AllocatedResources));
            var running = state.GetTasks.Tasks.Count(t => t.State == TaskStates.Running);
            var summary = new JsonObject
            {
                ["master"] = s.Master.AbsoluteUri.TrimEnd('/'),
                ["masterId"] = (string?)master["id"],
                ["leader"] = s.Master.Authority,
                ["agents"] = new JsonObject { ["active"] = agents.Count(a => a.Active), ["inactive"] = agents.Count(a => !a.Active) },
                ["resources"] = new JsonObject
                {
                    ["total"] = ToJson(total),
                    ["used"] = ToJson(used),
                },
                ["frameworks"] = new JsonArray([.. state.GetFrameworks.Frameworks.Select(f => (JsonNode)new JsonObject
                {
                    ["id"] = f.FrameworkInfo.Id?.Value,
                    ["name"] = f.FrameworkInfo.Name,
                    ["active"] = f.Active,
                    ["tasks"] = state.GetTasks.Tasks.Count(t => t.FrameworkId.Value == f.FrameworkInfo.Id?.Value),
                })]),
                ["tasks"] = new JsonObject { ["running"] = running, ["total"] = state.GetTasks.Tasks.Count },
                ["apps"] = apps.Count,
                ["jobs"] = jobs.Count,
            };
            if (parse.GetValue(json))
            {
                s.Json(summary);
                return DcosCli.Ok;
            }

            s.Line($"master     {summary["master"]} (id {summary["masterId"]})");
            s.Line($"agents     {agents.Count(a => a.Active)} active, {agents.Count(a => !a.Active)} inactive");
            foreach (var name in ScalarNames.Where(total.ContainsKey))
            {
                var unit = name is "mem" or "disk" ? " MiB" : "";
                s.Line($"{name,-10} {Session.Number(used.GetValueOrDefault(name))} of {Session.Number(total[name])}{unit} used");
            }

            s.Line($"tasks      {running} running, {state.GetTasks.Tasks.Count} total");
            s.Line($"apps       {apps.Count}");
            s.Line($"jobs       {jobs.Count}");
            var table = Session.NewTable("FRAMEWORK", "ID", "ACTIVE", "TASKS");
            foreach (var f in state.GetFrameworks.Frameworks.OrderBy(f => f.FrameworkInfo.Name, StringComparer.Ordinal))
            {
                Session.Row(table, f.FrameworkInfo.Name, f.FrameworkInfo.Id?.Value, f.Active ? "yes" : "no",
                    Session.Number(state.GetTasks.Tasks.Count(t => t.FrameworkId.Value == f.FrameworkInfo.Id?.Value)));
            }

            s.Write(table);
            return DcosCli.Ok;
        });
        cluster.Add(status);
        return cluster;
    }

    private static readonly string[] ScalarNames = ["cpus", "mem", "disk", "gpus"];

    /// <summary>Scalar totals by resource name (cpus in cores, mem/disk MiB).</summary>
    internal static Dictionary<string, double> Sum(IEnumerable<ResourceDto> resources)
    {
        var sums = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var r in resources.Where(r => r.Scalar is not null))
        {
            sums[r.Name] = sums.GetValueOrDefault(r.Name) + r.Scalar!.Value;
        }

        return sums;
    }

    internal static JsonObject ToJson(Dictionary<string, double> amounts)
    {
        var json = new JsonObject();
        foreach (var (name, value) in amounts.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            json[name] = Math.Round(value, 3);
        }

        return json;
    }
}
