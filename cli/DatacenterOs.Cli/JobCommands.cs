using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using DatacenterOs.Jobs.Contracts;

namespace DatacenterOs.Cli;

internal static partial class Commands
{
    private static Command JobCommand(Env env)
    {
        var job = new Command("job", "Scheduled jobs and their dependency DAGs (Jobs, Chronos's /v1/scheduler API).\n\nExample:\n  dcos job add examples/jobs/extract.json");
        var nameArg = () => new Argument<string>("NAME") { Description = "Job name" };

        var add = Cmd("add", "Creates or replaces jobs from Chronos job definitions: each FILE holds a job or a JSON array of jobs; parents are posted before their children.",
            "dcos job add examples/jobs/*.json\ncat dag.json | dcos job add -");
        var addFiles = new Argument<string[]>("FILE") { Description = "JSON files (a job or an array of jobs), or - for standard input", Arity = ArgumentArity.OneOrMore };
        add.Add(addFiles);
        add.Handle(env, async (s, parse, ct) =>
        {
            var jobs = new List<JsonObject>();
            foreach (var file in parse.GetValue(addFiles) ?? [])
            {
                jobs.AddRange(JsonNode.Parse(s.ReadJsonInput(file)) switch
                {
                    JsonObject o => [o],
                    JsonArray a when a.All(x => x is JsonObject) => a.Select(x => x!.AsObject()).ToList(),
                    _ => throw new UserException($"{file}: expected a job object or an array of job objects"),
                });
            }

            foreach (var j in OrderParentsFirst(jobs))
            {
                var name = await s.Jobs.UpsertJobAsync(j.ToJsonString(), ct).ConfigureAwait(false);
                s.Line($"job {name} saved");
            }

            return DcosCli.Ok;
        });

        var list = Cmd("list", "Lists jobs: schedule or parents, last outcome, state.", "dcos job list --json");
        var listJson = JsonOption();
        list.Add(listJson);
        list.Handle(env, async (s, parse, ct) =>
        {
            var summary = await s.Jobs.SummaryAsync(ct).ConfigureAwait(false);
            if (parse.GetValue(listJson))
            {
                s.Json(summary, ChronosJson.Options);
                return DcosCli.Ok;
            }

            var table = Session.NewTable("NAME", "SCHEDULE / PARENTS", "STATUS", "STATE", "ENABLED");
            foreach (var j in summary.OrderBy(j => j.Name, StringComparer.Ordinal))
            {
                Session.Row(table, j.Name, j.Schedule.Length > 0 ? j.Schedule : "after " + string.Join(", ", j.Parents), j.Status, j.State, j.Disabled ? "no" : "yes");
            }

            s.Write(table);
            return DcosCli.Ok;
        });

        var show = Cmd("show", "Shows a job's definition and counters.", "dcos job show extract --json");
        var showName = nameArg();
        var showJson = JsonOption();
        show.Add(showName);
        show.Add(showJson);
        show.Handle(env, async (s, parse, ct) =>
        {
            if (parse.GetValue(showJson))
            {
                s.Json(JsonNode.Parse(await s.Jobs.GetJobJsonAsync(parse.GetValue(showName)!, ct).ConfigureAwait(false)));
                return DcosCli.Ok;
            }

            var j = await s.Jobs.GetJobAsync(parse.GetValue(showName)!, ct).ConfigureAwait(false);
            s.Line($"name        {j.Name}");
            s.Line($"command     {j.Command}");
            s.Line(j.Schedule is not null ? $"schedule    {j.Schedule}" : $"parents     {string.Join(", ", j.Parents ?? [])}");
            s.Line($"enabled     {(j.Disabled ? "no" : "yes")}");
            s.Line($"resources   cpus {Session.Number(j.Cpus)}, mem {Session.Number(j.Mem)} MiB, disk {Session.Number(j.Disk)} MiB");
            s.Line($"successes   {j.SuccessCount} (last {Or(j.LastSuccess, "never")})");
            s.Line($"errors      {j.ErrorCount} (last {Or(j.LastError, "never")})");
            if (!string.IsNullOrEmpty(j.Description))
            {
                s.Line($"description {j.Description}");
            }

            return DcosCli.Ok;
        });

        var run = Cmd("run", "Runs a job now (and the jobs that depend on it); arguments after -- are appended to its command.", "dcos job run extract\ndcos job run extract -- --day 2026-01-01");
        var runName = nameArg();
        var runArgs = new Argument<string[]>("ARGS") { Description = "Arguments for this run (after --)", Arity = ArgumentArity.ZeroOrMore };
        run.Add(runName);
        run.Add(runArgs);
        run.Handle(env, async (s, parse, ct) =>
        {
            var name = parse.GetValue(runName)!;
            await s.Jobs.RunJobAsync(name, parse.GetValue(runArgs) ?? [], ct).ConfigureAwait(false);
            s.Line($"job {name} started (see 'dcos job history {name}')");
            return DcosCli.Ok;
        });

        var history = Cmd("history", "A job's runs, newest first: state, exit code, times, task, reason.", "dcos job history extract --limit 20");
        var historyName = nameArg();
        var historyJson = JsonOption();
        var limit = new Option<int>("--limit") { Description = "Most runs shown", DefaultValueFactory = _ => 20 };
        history.Add(historyName);
        history.Add(historyJson);
        history.Add(limit);
        history.Handle(env, async (s, parse, ct) =>
        {
            var runs = await s.Jobs.GetRunsAsync(parse.GetValue(historyName)!, Math.Max(1, parse.GetValue(limit)), ct).ConfigureAwait(false);
            if (parse.GetValue(historyJson))
            {
                s.Json(runs, ChronosJson.Options);
                return DcosCli.Ok;
            }

            var table = Session.NewTable("RUN", "TRIGGER", "STATE", "EXIT", "STARTED", "FINISHED", "TASK", "REASON");
            foreach (var r in runs)
            {
                Session.Row(table, r.RunId, r.Trigger, r.State, r.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "-",
                    Time(r.StartedAt), Time(r.FinishedAt), r.TaskId ?? "-", Truncate(r.Reason, 60));
            }

            s.Write(table);
            return DcosCli.Ok;
        });

        var graph = Cmd("graph", "The dependency graph: as text (a tree per scheduled job) or Graphviz DOT.", "dcos job graph\ndcos job graph --format dot | dot -Tsvg > jobs.svg");
        var format = new Option<string>("--format") { Description = "text (default) or dot", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong("text", "dot");
        graph.Add(format);
        graph.Handle(env, async (s, parse, ct) =>
        {
            if (parse.GetValue(format) == "dot")
            {
                s.Context.Out.Write(await s.Jobs.GetDotAsync(ct).ConfigureAwait(false));
                s.Line();
                return DcosCli.Ok;
            }

            var jobs = await s.Jobs.ListJobsAsync(ct).ConfigureAwait(false);
            s.Context.Out.Write(JobGraphText.Render(jobs.Select(j => new JobGraphText.Node(j.Name, j.Parents ?? [], j.Schedule, j.Disabled))));
            return DcosCli.Ok;
        });

        Command Toggle(string verb, bool disabled)
        {
            var command = Cmd(verb, disabled ? "Disables a job: neither its schedule nor its parents run it." : "Enables a disabled job.", $"dcos job {verb} extract");
            var name = nameArg();
            command.Add(name);
            command.Handle(env, async (s, parse, ct) =>
            {
                await s.Jobs.SetDisabledAsync(parse.GetValue(name)!, disabled, ct).ConfigureAwait(false);
                s.Line($"job {parse.GetValue(name)} {verb}d");
                return DcosCli.Ok;
            });
            return command;
        }

        var remove = Cmd("remove", "Removes a job (its children take its parents; running runs are killed).", "dcos job remove load");
        var removeName = nameArg();
        remove.Add(removeName);
        remove.Handle(env, async (s, parse, ct) =>
        {
            await s.Jobs.RemoveJobAsync(parse.GetValue(removeName)!, ct).ConfigureAwait(false);
            s.Line($"job {parse.GetValue(removeName)} removed");
            return DcosCli.Ok;
        });

        var kill = Cmd("kill", "Kills a job's running and pending runs.", "dcos job kill extract");
        var killName = nameArg();
        kill.Add(killName);
        kill.Handle(env, async (s, parse, ct) =>
        {
            await s.Jobs.KillRunsAsync(parse.GetValue(killName)!, ct).ConfigureAwait(false);
            s.Line($"runs of {parse.GetValue(killName)} killed");
            return DcosCli.Ok;
        });

        foreach (var c in new[] { add, list, show, run, history, graph, Toggle("enable", false), Toggle("disable", true), remove, kill })
        {
            job.Add(c);
        }

        return job;
    }

    private static string Or(string? value, string fallback) => string.IsNullOrEmpty(value) ? fallback : value;

    private static string Time(DateTimeOffset? at) =>
        at is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) : "-";

    /// <summary>Jobs in an order where every parent defined in the same batch comes before its children.</summary>
    internal static List<JsonObject> OrderParentsFirst(List<JsonObject> jobs)
    {
        var byName = jobs.Where(j => (string?)j["name"] is not null).GroupBy(j => (string)j["name"]!).ToDictionary(g => g.Key, g => g.Last(), StringComparer.Ordinal);
        var done = new HashSet<string>(StringComparer.Ordinal);
        var ordered = new List<JsonObject>();
        void Visit(JsonObject job, HashSet<string> path)
        {
            var name = (string?)job["name"] ?? "";
            if (done.Contains(name) || !path.Add(name))
            {
                return; // cycles are left to the server, which names them
            }

            foreach (var parent in (job["parents"] as JsonArray)?.Select(p => (string?)p) ?? [])
            {
                if (parent is not null && byName.TryGetValue(parent, out var p))
                {
                    Visit(p, path);
                }
            }

            if (done.Add(name))
            {
                ordered.Add(job);
            }
        }

        foreach (var job in jobs)
        {
            Visit(job, new HashSet<string>(StringComparer.Ordinal));
        }

        return ordered;
    }
}

/// <summary>
/// Draws a job DAG as text: one tree per root (a job without parents), children under their parents. A job with
/// several parents is drawn in full under the first and as <c>name (↑ also after …)</c> under the others, so the
/// output stays a tree and every edge is shown.
/// </summary>
internal static class JobGraphText
{
    /// <summary>One job: its name, parents, schedule (roots) and whether it is disabled.</summary>
    public sealed record Node(string Name, IReadOnlyList<string> Parents, string? Schedule, bool Disabled);

    public static string Render(IEnumerable<Node> nodes)
    {
        var all = nodes.ToDictionary(n => n.Name, StringComparer.Ordinal);
        if (all.Count == 0)
        {
            return "no jobs\n";
        }

        var children = all.Values
            .SelectMany(n => n.Parents.Where(all.ContainsKey).Select(p => (Parent: p, Child: n.Name)))
            .GroupBy(e => e.Parent, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(e => e.Child).Order(StringComparer.Ordinal).ToList(), StringComparer.Ordinal);
        var text = new StringBuilder();
        var drawn = new HashSet<string>(StringComparer.Ordinal);

        string Label(Node n) =>
            n.Name + (n.Schedule is { Length: > 0 } schedule ? $"  [{schedule}]" : "") + (n.Disabled ? "  (disabled)" : "");

        void Draw(string name, string parent, string prefix, bool last)
        {
            var node = all[name];
            text.Append(prefix).Append(last ? "└── " : "├── ");
            if (!drawn.Add(name))
            {
                var others = node.Parents.Where(p => p != parent).ToList();
                text.Append(name).Append("  (↑ drawn above").Append(others.Count > 0 ? ", also after " + string.Join(", ", others) : "").Append(")\n");
                return;
            }

            text.Append(Label(node));
            var otherParents = node.Parents.Where(p => p != parent).ToList();
            if (otherParents.Count > 0)
            {
                text.Append("  (also after ").AppendJoin(", ", otherParents).Append(')');
            }

            text.Append('\n');
            var kids = children.GetValueOrDefault(name) ?? [];
            for (var i = 0; i < kids.Count; i++)
            {
                Draw(kids[i], name, prefix + (last ? "    " : "│   "), i == kids.Count - 1);
            }
        }

        var roots = all.Values.Where(n => !n.Parents.Any(all.ContainsKey)).OrderBy(n => n.Name, StringComparer.Ordinal).ToList();
        foreach (var root in roots)
        {
            drawn.Add(root.Name);
            text.Append(Label(root)).Append('\n');
            var kids = children.GetValueOrDefault(root.Name) ?? [];
            for (var i = 0; i < kids.Count; i++)
            {
                Draw(kids[i], root.Name, "", i == kids.Count - 1);
            }
        }

        foreach (var orphan in all.Values.Where(n => !drawn.Contains(n.Name)).OrderBy(n => n.Name, StringComparer.Ordinal))
        {
            text.Append(Label(orphan)).Append("  (in a cycle)\n");
        }

        return text.ToString();
    }
}
