using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using DatacenterOs.Apps.Contracts;
using DatacenterOs.Kernel.Contracts;

namespace DatacenterOs.Cli;

internal static partial class Commands
{
    // ---- node -----------------------------------------------------------------------------------------------------

    private static Command NodeCommand(Env env)
    {
        var node = new Command("node", "Agents (the machines tasks run on).\n\nExample:\n  dcos node list");

        var list = Cmd("list", "Lists agents: id, host, state, resources used / total, attributes.", "dcos node list --json");
        var listJson = JsonOption();
        list.Add(listJson);
        list.Handle(env, async (s, parse, ct) =>
        {
            var agents = (await s.Operator.GetAgentsAsync(ct).ConfigureAwait(false)).Agents.OrderBy(a => a.AgentInfo.Hostname, StringComparer.Ordinal).ThenBy(a => a.AgentInfo.Id?.Value, StringComparer.Ordinal).ToList();
            if (parse.GetValue(listJson))
            {
                s.Json(new JsonArray([.. agents.Select(a => (JsonNode)AgentJson(a))]));
                return DcosCli.Ok;
            }

            var table = Session.NewTable("ID", "HOST", "ACTIVE", "CPUS", "MEM (MiB)", "DISK (MiB)", "ATTRIBUTES");
            foreach (var a in agents)
            {
                var total = Sum(a.TotalResources);
                var used = Sum(a.AllocatedResources);
                Session.Row(table, a.AgentInfo.Id?.Value, $"{a.AgentInfo.Hostname}:{a.AgentInfo.Port}", a.Active ? "yes" : "no",
                    UsedOf(used, total, "cpus"), UsedOf(used, total, "mem"), UsedOf(used, total, "disk"), Attributes(a.AgentInfo));
            }

            s.Write(table);
            return DcosCli.Ok;
        });

        var show = Cmd("show", "Shows one agent: resources (total, used, offered), attributes, its tasks.", "dcos node show 3f1c… --json");
        var showId = new Argument<string>("ID") { Description = "Agent id (or a unique prefix, or its host name)" };
        var showJson = JsonOption();
        show.Add(showId);
        show.Add(showJson);
        show.Handle(env, async (s, parse, ct) =>
        {
            var state = await s.Operator.GetStateAsync(ct).ConfigureAwait(false);
            var agent = FindAgent(state.GetAgents.Agents, parse.GetValue(showId)!);
            var tasks = state.GetTasks.Tasks.Where(t => t.AgentId.Value == agent.AgentInfo.Id?.Value).OrderBy(t => t.TaskId.Value, StringComparer.Ordinal).ToList();
            if (parse.GetValue(showJson))
            {
                var json = AgentJson(agent);
                json["tasks"] = new JsonArray([.. tasks.Select(t => (JsonNode)new JsonObject { ["id"] = t.TaskId.Value, ["name"] = t.Name, ["state"] = t.State, ["frameworkId"] = t.FrameworkId.Value })]);
                s.Json(json);
                return DcosCli.Ok;
            }

            var total = Sum(agent.TotalResources);
            var used = Sum(agent.AllocatedResources);
            var offered = Sum(agent.OfferedResources);
            s.Line($"id          {agent.AgentInfo.Id?.Value}");
            s.Line($"host        {agent.AgentInfo.Hostname}:{agent.AgentInfo.Port}");
            s.Line($"active      {(agent.Active ? "yes" : "no")}");
            s.Line($"attributes  {Or(Attributes(agent.AgentInfo), "none")}");
            foreach (var name in total.Keys.Order(StringComparer.Ordinal))
            {
                s.Line($"{name,-11} {Session.Number(used.GetValueOrDefault(name))} used, {Session.Number(offered.GetValueOrDefault(name))} offered, {Session.Number(total[name])} total");
            }

            var table = Session.NewTable("TASK", "NAME", "STATE", "FRAMEWORK");
            foreach (var t in tasks)
            {
                Session.Row(table, t.TaskId.Value, t.Name, t.State, t.FrameworkId.Value);
            }

            s.Write(table);
            return DcosCli.Ok;
        });

        var drain = Cmd("drain", "Drains an agent: its tasks are moved away and it gets no new ones (needs a master with maintenance support).", "dcos node drain 3f1c…");
        var drainId = new Argument<string>("ID") { Description = "Agent id (or a unique prefix, or its host name)" };
        drain.Add(drainId);
        drain.Handle(env, async (s, parse, ct) =>
        {
            var agents = (await s.Operator.GetAgentsAsync(ct).ConfigureAwait(false)).Agents;
            var agent = FindAgent(agents, parse.GetValue(drainId)!);
            var call = new JsonObject
            {
                ["type"] = "DRAIN_AGENT",
                ["drain_agent"] = new JsonObject { ["agent_id"] = new JsonObject { ["value"] = agent.AgentInfo.Id?.Value } },
            };
            try
            {
                using var content = new StringContent(call.ToJsonString(), Encoding.UTF8, "application/json");
                using var response = await s.Http.PostAsync(new Uri(s.Master, "api/v1"), content, ct).ConfigureAwait(false);
                var body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
                if ((int)response.StatusCode >= 400)
                {
                    throw ApiException.FromBody((int)response.StatusCode, response.ReasonPhrase, body);
                }
            }
            catch (ApiException e) when (e.Status is 400 or 404 or 501 && e.Message.Contains("unsupported", StringComparison.OrdinalIgnoreCase) || e.Status is 404 or 501)
            {
                throw new UserException("node drain is not supported by this master (no DRAIN_AGENT operator call)");
            }

            s.Line($"draining agent {agent.AgentInfo.Id?.Value}");
            return DcosCli.Ok;
        });

        node.Add(list);
        node.Add(show);
        node.Add(drain);
        return node;
    }

    private static AgentStateDto FindAgent(IReadOnlyList<AgentStateDto> agents, string id)
    {
        var exact = agents.FirstOrDefault(a => a.AgentInfo.Id?.Value == id);
        if (exact is not null)
        {
            return exact;
        }

        var matches = agents.Where(a => a.AgentInfo.Id?.Value.StartsWith(id, StringComparison.Ordinal) == true || a.AgentInfo.Hostname == id).ToList();
        return matches.Count switch
        {
            1 => matches[0],
            0 => throw new UserException($"agent '{id}' does not exist (see 'dcos node list')"),
            _ => throw new UserException($"'{id}' matches {matches.Count} agents: {string.Join(", ", matches.Select(a => a.AgentInfo.Id?.Value))}"),
        };
    }

    private static JsonObject AgentJson(AgentStateDto a) => new()
    {
        ["id"] = a.AgentInfo.Id?.Value,
        ["hostname"] = a.AgentInfo.Hostname,
        ["port"] = a.AgentInfo.Port,
        ["active"] = a.Active,
        ["resources"] = ToJson(Sum(a.TotalResources)),
        ["usedResources"] = ToJson(Sum(a.AllocatedResources)),
        ["offeredResources"] = ToJson(Sum(a.OfferedResources)),
        ["attributes"] = new JsonObject(a.AgentInfo.Attributes.Select(x => KeyValuePair.Create(x.Name, (JsonNode?)AttributeValue(x)))),
    };

    private static string AttributeValue(AttributeDto a) => a.Text?.Value ?? (a.Scalar is { } v ? Session.Number(v.Value) : "");

    private static string Attributes(AgentInfoDto agent) => string.Join(",", agent.Attributes.Select(a => a.Name + ":" + AttributeValue(a)));

    private static string UsedOf(Dictionary<string, double> used, Dictionary<string, double> total, string name) =>
        total.TryGetValue(name, out var all) ? $"{Session.Number(used.GetValueOrDefault(name))}/{Session.Number(all)}" : "-";

    // ---- task -----------------------------------------------------------------------------------------------------

    private static Command TaskCommand(Env env)
    {
        var task = new Command("task", "Tasks of every framework (Apps instances, Jobs runs, others).\n\nExample:\n  dcos task list --app /web");

        var list = Cmd("list", "Lists tasks: id, name, state, agent, framework.", "dcos task list --app /web --state running\ndcos task list --completed --json");
        var app = new Option<string?>("--app") { Description = "Only the instances of this app" };
        var stateOption = new Option<string?>("--state") { Description = "Only tasks in this state (running, TASK_FAILED, …)" };
        var completed = new Option<bool>("--completed") { Description = "Include finished tasks" };
        var listJson = JsonOption();
        list.Add(app);
        list.Add(stateOption);
        list.Add(completed);
        list.Add(listJson);
        list.Handle(env, async (s, parse, ct) =>
        {
            var state = await s.Operator.GetStateAsync(ct).ConfigureAwait(false);
            var frameworks = state.GetFrameworks.Frameworks.ToDictionary(f => f.FrameworkInfo.Id?.Value ?? "", f => f.FrameworkInfo.Name, StringComparer.Ordinal);
            var agents = state.GetAgents.Agents.ToDictionary(a => a.AgentInfo.Id?.Value ?? "", a => a.AgentInfo.Hostname, StringComparer.Ordinal);
            IEnumerable<TaskDto> tasks = state.GetTasks.Tasks;
            if (parse.GetValue(completed))
            {
                tasks = tasks.Concat(state.GetTasks.CompletedTasks);
            }

            if (parse.GetValue(app) is { } appId)
            {
                var ids = (await s.Apps.GetAppTasksAsync(appId, ct).ConfigureAwait(false)).Select(t => t.Id).ToHashSet(StringComparer.Ordinal);
                tasks = tasks.Where(t => ids.Contains(t.TaskId.Value));
            }

            if (parse.GetValue(stateOption) is { } wanted)
            {
                var normalized = wanted.ToUpperInvariant();
                normalized = normalized.StartsWith("TASK_", StringComparison.Ordinal) ? normalized : "TASK_" + normalized;
                tasks = tasks.Where(t => t.State == normalized);
            }

            var rows = tasks.OrderBy(t => t.TaskId.Value, StringComparer.Ordinal).ToList();
            if (parse.GetValue(listJson))
            {
                s.Json(new JsonArray([.. rows.Select(t => (JsonNode)new JsonObject
                {
                    ["id"] = t.TaskId.Value,
                    ["name"] = t.Name,
                    ["state"] = t.State,
                    ["agentId"] = t.AgentId.Value,
                    ["host"] = agents.GetValueOrDefault(t.AgentId.Value),
                    ["frameworkId"] = t.FrameworkId.Value,
                    ["framework"] = frameworks.GetValueOrDefault(t.FrameworkId.Value),
                    ["role"] = t.Role,
                    ["resources"] = ToJson(Sum(t.Resources)),
                })]));
                return DcosCli.Ok;
            }

            var table = Session.NewTable("TASK", "NAME", "STATE", "HOST", "FRAMEWORK", "CPUS", "MEM");
            foreach (var t in rows)
            {
                var r = Sum(t.Resources);
                Session.Row(table, t.TaskId.Value, t.Name, t.State, agents.GetValueOrDefault(t.AgentId.Value), frameworks.GetValueOrDefault(t.FrameworkId.Value),
                    Session.Number(r.GetValueOrDefault("cpus")), Session.Number(r.GetValueOrDefault("mem")));
            }

            s.Write(table);
            return DcosCli.Ok;
        });

        var log = Cmd("log", "Prints a task's stdout (or stderr) from its sandbox on the agent; --follow keeps printing until the task ends.", "dcos task log web.3c0e… --lines 20\ndcos task log web.3c0e… --stderr --follow");
        var logTask = new Argument<string>("TASK") { Description = "Task id (or a unique prefix)" };
        var stderr = new Option<bool>("--stderr") { Description = "Print stderr instead of stdout" };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new output until the task ends (or Ctrl+C)" };
        var lines = new Option<int?>("--lines", "-n") { Description = "Only the last N lines" };
        log.Add(logTask);
        log.Add(stderr);
        log.Add(follow);
        log.Add(lines);
        log.Handle(env, (s, parse, ct) => TaskLogAsync(s, parse.GetValue(logTask)!, parse.GetValue(stderr) ? "stderr" : "stdout", parse.GetValue(follow), parse.GetValue(lines), ct));

        var kill = Cmd("kill", "Kills a task. App instances are replaced by Apps (unless --scale); other tasks are killed through their framework.", "dcos task kill web.3c0e…\ndcos task kill web.3c0e… --scale");
        var killTask = new Argument<string>("TASK") { Description = "Task id (or a unique prefix)" };
        var scale = new Option<bool>("--scale") { Description = "App instance: also lower the app's instances by one" };
        kill.Add(killTask);
        kill.Add(scale);
        kill.Handle(env, async (s, parse, ct) =>
        {
            var state = await s.Operator.GetStateAsync(ct).ConfigureAwait(false);
            var task = FindTask(state, parse.GetValue(killTask)!);
            var appTask = (await s.Apps.ListTasksAsync(cancellationToken: ct).ConfigureAwait(false)).FirstOrDefault(t => t.Id == task.TaskId.Value);
            if (appTask is not null)
            {
                await s.Apps.KillTaskAsync(appTask.AppId, appTask.Id, parse.GetValue(scale), ct).ConfigureAwait(false);
                s.Line($"killed {appTask.Id} of app {appTask.AppId}" + (parse.GetValue(scale) ? " (scaled down)" : " (it will be replaced)"));
                return DcosCli.Ok;
            }

            var jobs = await s.Jobs.ListJobsAsync(ct).ConfigureAwait(false);
            foreach (var job in jobs)
            {
                var runs = await s.Jobs.GetRunsAsync(job.Name, 20, ct).ConfigureAwait(false);
                if (runs.Any(r => r.TaskId == task.TaskId.Value))
                {
                    await s.Jobs.KillRunsAsync(job.Name, ct).ConfigureAwait(false);
                    s.Line($"killed the running runs of job {job.Name} (task {task.TaskId.Value})");
                    return DcosCli.Ok;
                }
            }

            throw new UserException($"task {task.TaskId.Value} belongs to neither Apps nor Jobs: kill it through its framework");
        });

        task.Add(list);
        task.Add(log);
        task.Add(kill);
        return task;
    }

    private static TaskDto FindTask(GetStateDto state, string id)
    {
        var all = state.GetTasks.Tasks.Concat(state.GetTasks.CompletedTasks).ToList();
        var exact = all.Where(t => t.TaskId.Value == id).ToList();
        if (exact.Count > 0)
        {
            return exact[0];
        }

        var matches = all.Where(t => t.TaskId.Value.StartsWith(id, StringComparison.Ordinal)).GroupBy(t => t.TaskId.Value).ToList();
        return matches.Count switch
        {
            1 => matches[0].First(),
            0 => throw new UserException($"task '{id}' does not exist (see 'dcos task list --completed')"),
            _ => throw new UserException($"'{id}' matches {matches.Count} tasks: {string.Join(", ", matches.Take(5).Select(m => m.Key))}{(matches.Count > 5 ? ", …" : "")}"),
        };
    }

    private static async Task<int> TaskLogAsync(Session s, string id, string file, bool follow, int? lines, CancellationToken ct)
    {
        var state = await s.Operator.GetStateAsync(ct).ConfigureAwait(false);
        var task = FindTask(state, id);
        var agent = state.GetAgents.Agents.FirstOrDefault(a => a.AgentInfo.Id?.Value == task.AgentId.Value)
            ?? throw new UserException($"the agent of task {task.TaskId.Value} ({task.AgentId.Value}) is not connected");
        var agentUrl = AgentFilesClient.AgentUrl(agent.AgentInfo);
        var files = new AgentFilesClient(s.Http, agentUrl);
        var path = $"{task.FrameworkId.Value}/{task.TaskId.Value}/{file}";
        long offset = 0;
        try
        {
            if (lines is { } n)
            {
                offset = await TailStartAsync(files, path, n, ct).ConfigureAwait(false);
            }

            offset = await CopyAsync(s, files, path, offset, ct).ConfigureAwait(false);
            while (follow)
            {
                var current = await s.Operator.GetStateAsync(ct).ConfigureAwait(false);
                var running = current.GetTasks.Tasks.Any(t => t.TaskId.Value == task.TaskId.Value && !TaskStates.IsTerminal(t.State));
                await Task.Delay(TimeSpan.FromSeconds(s.Context.PollSeconds), ct).ConfigureAwait(false);
                var next = await CopyAsync(s, files, path, offset, ct).ConfigureAwait(false);
                if (next == offset && !running)
                {
                    break;
                }

                offset = next;
            }
        }
        catch (HttpRequestException e)
        {
            e.Data["dcos.target"] = "agent " + agentUrl.AbsoluteUri.TrimEnd('/');
            throw;
        }
        catch (ApiException e) when (e.Status == 404)
        {
            throw new UserException($"no {file} for task {task.TaskId.Value} on agent {agentUrl.Authority} (sandbox removed?)");
        }

        return DcosCli.Ok;
    }

    /// <summary>Offset from which the file holds its last <paramref name="lines"/> lines.</summary>
    private static async Task<long> TailStartAsync(AgentFilesClient files, string path, int lines, CancellationToken ct)
    {
        var size = (await files.ReadAsync(path, -1, null, ct).ConfigureAwait(false)).Offset;
        var window = 64L * 1024;
        while (true)
        {
            var start = Math.Max(0, size - window);
            var data = await ReadRangeAsync(files, path, start, size, ct).ConfigureAwait(false);
            var text = data.EndsWith('\n') ? data[..^1] : data;
            var newlines = 0;
            for (var i = text.Length - 1; i >= 0; i--)
            {
                if (text[i] == '\n' && ++newlines == lines)
                {
                    return start + Encoding.UTF8.GetByteCount(text.AsSpan(0, i + 1));
                }
            }

            if (start == 0)
            {
                return 0;
            }

            window *= 4;
        }
    }

    private static async Task<string> ReadRangeAsync(AgentFilesClient files, string path, long start, long end, CancellationToken ct)
    {
        var bytes = new StringBuilder();
        var offset = start;
        while (offset < end)
        {
            var chunk = await files.ReadAsync(path, offset, Math.Min(1024 * 1024, end - offset), ct).ConfigureAwait(false);
            if (chunk.Data.Length == 0)
            {
                break;
            }

            bytes.Append(chunk.Data);
            offset += Encoding.UTF8.GetByteCount(chunk.Data);
        }

        return bytes.ToString();
    }

    /// <summary>Prints the file from <paramref name="offset"/> to its current end; returns the new offset.</summary>
    private static async Task<long> CopyAsync(Session s, AgentFilesClient files, string path, long offset, CancellationToken ct)
    {
        while (true)
        {
            var chunk = await files.ReadAsync(path, offset, 1024 * 1024, ct).ConfigureAwait(false);
            if (chunk.Data.Length == 0)
            {
                await s.Context.Out.FlushAsync(ct).ConfigureAwait(false);
                return offset;
            }

            await s.Context.Out.WriteAsync(chunk.Data).ConfigureAwait(false);
            offset += Encoding.UTF8.GetByteCount(chunk.Data);
        }
    }

    // ---- role -----------------------------------------------------------------------------------------------------

    private static Command RoleCommand(Env env)
    {
        var role = new Command("role", "Roles: weights (fair shares) and quota.\n\nExample:\n  dcos role weight web 2");

        var list = Cmd("list", "Lists roles: weight, weighted dominant share, frameworks, allocated resources, quota.", "dcos role list --json");
        var listJson = JsonOption();
        list.Add(listJson);
        list.Handle(env, async (s, parse, ct) =>
        {
            var roles = (await s.Operator.GetRolesAsync(ct).ConfigureAwait(false)).Roles.OrderBy(r => r.Name, StringComparer.Ordinal).ToList();
            if (parse.GetValue(listJson))
            {
                s.Json(new JsonArray([.. roles.Select(r => (JsonNode)new JsonObject
                {
                    ["name"] = r.Name,
                    ["weight"] = r.Weight,
                    ["share"] = Math.Round(r.Share, 6),
                    ["frameworks"] = new JsonArray([.. r.Frameworks.Select(f => (JsonNode)JsonValue.Create(f.Value))]),
                    ["resources"] = ToJson(Sum(r.Resources)),
                    ["quota"] = r.QuotaLimits is { } q ? ToJson(q.ToDictionary(kv => kv.Key, kv => kv.Value.Value, StringComparer.Ordinal)) : null,
                })]));
                return DcosCli.Ok;
            }

            var table = Session.NewTable("ROLE", "WEIGHT", "SHARE", "FRAMEWORKS", "ALLOCATED", "QUOTA");
            foreach (var r in roles)
            {
                Session.Row(table, r.Name, Session.Number(r.Weight), r.Share.ToString("0.000", CultureInfo.InvariantCulture), Session.Number(r.Frameworks.Count),
                    Amounts(Sum(r.Resources)), r.QuotaLimits is { Count: > 0 } q ? Amounts(q.ToDictionary(kv => kv.Key, kv => kv.Value.Value, StringComparer.Ordinal)) : "-");
            }

            s.Write(table);
            return DcosCli.Ok;
        });

        var weight = Cmd("weight", "Sets a role's weight: its fair share of the cluster is proportional to it (default 1).", "dcos role weight web 2");
        var weightRole = new Argument<string>("ROLE") { Description = "Role name" };
        var weightValue = new Argument<double>("W") { Description = "Weight, greater than 0" };
        weight.Add(weightRole);
        weight.Add(weightValue);
        weight.Handle(env, async (s, parse, ct) =>
        {
            var w = parse.GetValue(weightValue);
            if (!(w > 0) || double.IsInfinity(w))
            {
                throw new UserException($"weight must be a number greater than 0 (got {Session.Number(w)})");
            }

            await s.Operator.UpdateWeightAsync(parse.GetValue(weightRole)!, w, ct).ConfigureAwait(false);
            s.Line($"role {parse.GetValue(weightRole)} weight {Session.Number(w)}");
            return DcosCli.Ok;
        });

        var quota = Cmd("quota", "Sets a role's quota limits (cpus in cores, mem and disk in MiB); the role is never offered more.", "dcos role quota web cpus=4 mem=8192");
        var quotaRole = new Argument<string>("ROLE") { Description = "Role name" };
        var limits = new Argument<string[]>("LIMITS") { Description = "NAME=AMOUNT pairs, e.g. cpus=4 mem=8192", Arity = ArgumentArity.OneOrMore };
        var force = new Option<bool>("--force") { Description = "Set the quota even when the cluster cannot satisfy it now" };
        quota.Add(quotaRole);
        quota.Add(limits);
        quota.Add(force);
        quota.Handle(env, async (s, parse, ct) =>
        {
            var parsed = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var pair in parse.GetValue(limits) ?? [])
            {
                var eq = pair.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0 || !double.TryParse(pair[(eq + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var amount) || amount < 0)
                {
                    throw new UserException($"'{pair}' is not NAME=AMOUNT with an amount of 0 or more (e.g. cpus=4)");
                }

                parsed[pair[..eq]] = amount;
            }

            await s.Operator.UpdateQuotaAsync(parse.GetValue(quotaRole)!, parsed, parse.GetValue(force), ct).ConfigureAwait(false);
            s.Line($"role {parse.GetValue(quotaRole)} quota {Amounts(parsed)}");
            return DcosCli.Ok;
        });

        role.Add(list);
        role.Add(weight);
        role.Add(quota);
        return role;
    }

    private static string Amounts(Dictionary<string, double> amounts) =>
        amounts.Count == 0 ? "-" : string.Join(" ", amounts.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={Session.Number(kv.Value)}"));

    // ---- events ---------------------------------------------------------------------------------------------------

    private static Command EventsCommand(Env env)
    {
        var events = Cmd("events", "Streams the Apps event feed (deployments, status updates, health) until Ctrl+C.",
            "dcos events --type deployment_success --type deployment_failed\ndcos events --json | jq .eventType");
        var types = new Option<string[]>("--type", "-t") { Description = "Only events of this type (repeatable)", AllowMultipleArgumentsPerToken = false };
        var json = new Option<bool>("--json") { Description = "One JSON object per line (the event as sent)" };
        var max = new Option<int?>("--max") { Description = "Stop after this many events" };
        events.Add(types);
        events.Add(json);
        events.Add(max);
        events.Handle(env, async (s, parse, ct) =>
        {
            using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
            s.Authorize(http);
            var client = new AppsClient(http, s.Master);
            var seen = 0;
            var limit = parse.GetValue(max);
            await foreach (var evt in client.StreamEventsAsync(parse.GetValue(types) ?? [], ct).ConfigureAwait(false))
            {
                if (evt.EventType == "event_stream_attached")
                {
                    continue;
                }

                if (parse.GetValue(json))
                {
                    s.Line(evt.Data);
                }
                else
                {
                    var data = JsonNode.Parse(evt.Data) as JsonObject;
                    var at = (string?)data?["timestamp"] ?? "";
                    data?.Remove("eventType");
                    data?.Remove("timestamp");
                    s.Line($"{at} {evt.EventType} {Truncate(data?.ToJsonString(MarathonJson.Options), 300)}");
                }

                await s.Context.Out.FlushAsync(ct).ConfigureAwait(false);
                if (limit is { } l && ++seen >= l)
                {
                    break;
                }
            }

            return DcosCli.Ok;
        });
        return events;
    }
}
