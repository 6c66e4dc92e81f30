using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using DatacenterOs.Apps.Contracts;

namespace DatacenterOs.Cli;

internal static partial class Commands
{
    /// <summary>Label that remembers an app's instances while it is suspended (read back by <c>app resume</c>).</summary>
    internal const string SuspendedInstancesLabel = "dcos.suspendedInstances";

    private sealed record WaitOptions(Option<bool> Wait, Option<int> Timeout, Option<bool> Force);

    private static WaitOptions AddWaitOptions(Command command)
    {
        var options = new WaitOptions(
            new Option<bool>("--wait", "-w") { Description = "Show the deployment's progress until it succeeds (exit 0) or fails (exit 1)" },
            new Option<int>("--timeout") { Description = "With --wait: give up after this many seconds (exit 1)", DefaultValueFactory = _ => 600 },
            new Option<bool>("--force") { Description = "Override a running deployment that touches the same app" });
        command.Add(options.Wait);
        command.Add(options.Timeout);
        command.Add(options.Force);
        return options;
    }

    /// <summary>Runs a change; with <c>--wait</c> follows its deployment (the event stream is opened before the change).</summary>
    private static async Task<int> ChangeAsync(Session s, ParseResult parse, WaitOptions options, string what, Func<Task<string?>> change, CancellationToken ct)
    {
        if (!parse.GetValue(options.Wait))
        {
            var id = await change().ConfigureAwait(false);
            s.Line(id is null ? what : $"{what} (deployment {id})");
            return DcosCli.Ok;
        }

        await using var watch = await DeploymentWatch.StartAsync(s, ct).ConfigureAwait(false);
        var deploymentId = await change().ConfigureAwait(false);
        s.Line(deploymentId is null ? what : $"{what} (deployment {deploymentId})");
        if (deploymentId is null)
        {
            return DcosCli.Ok;
        }

        return await watch.WaitAsync(deploymentId, TimeSpan.FromSeconds(parse.GetValue(options.Timeout)), ct).ConfigureAwait(false);
    }

    private static Command AppCommand(Env env)
    {
        var app = new Command("app", "Long-running services (Apps, Marathon's /v2 API).\n\nExample:\n  dcos app add examples/apps/web.json --wait");
        var idArg = () => new Argument<string>("ID") { Description = "App id, e.g. /web" };
        var fileArg = () => new Argument<string>("FILE") { Description = "JSON file, or - for standard input" };

        // add
        var add = Cmd("add", "Creates an app from a Marathon app definition.", "dcos app add examples/apps/web.json --wait\ncat web.json | dcos app add -");
        var addFile = fileArg();
        add.Add(addFile);
        var addWait = AddWaitOptions(add);
        add.Handle(env, (s, parse, ct) =>
        {
            var json = s.ReadJsonInput(parse.GetValue(addFile)!);
            return ChangeAsync(s, parse, addWait, "created", async () =>
            {
                var (created, deployment) = await s.Apps.CreateAppAsync(json, parse.GetValue(addWait.Force), ct).ConfigureAwait(false);
                s.Line($"app {created.Id} version {created.Version}");
                return deployment;
            }, ct);
        });

        // list
        var list = Cmd("list", "Lists apps: instances running / wanted, health, resources, deployments.", "dcos app list --json");
        var listJson = JsonOption();
        list.Add(listJson);
        list.Handle(env, async (s, parse, ct) =>
        {
            var apps = (await s.Apps.ListAppsAsync(cancellationToken: ct).ConfigureAwait(false)).OrderBy(a => a.Id, StringComparer.Ordinal).ToList();
            if (parse.GetValue(listJson))
            {
                s.Json(apps, MarathonJson.Options);
                return DcosCli.Ok;
            }

            var table = Session.NewTable("ID", "RUNNING", "HEALTHY", "CPUS", "MEM", "DEPLOYING", "CMD");
            foreach (var a in apps)
            {
                Session.Row(table, a.Id, $"{a.TasksRunning}/{a.Instances}", HealthText(a), Session.Number(a.Cpus), Session.Number(a.Mem),
                    a.Deployments is { Count: > 0 } ? "yes" : "no", Truncate(a.Cmd, 50));
            }

            s.Write(table);
            return DcosCli.Ok;
        });

        // show
        var show = Cmd("show", "Shows an app: definition summary and its instances.", "dcos app show /web --json");
        var showId = idArg();
        var showJson = JsonOption();
        show.Add(showId);
        show.Add(showJson);
        show.Handle(env, async (s, parse, ct) =>
        {
            var a = await s.Apps.GetAppAsync(parse.GetValue(showId)!, ct).ConfigureAwait(false);
            if (parse.GetValue(showJson))
            {
                s.Json(a, MarathonJson.Options);
                return DcosCli.Ok;
            }

            s.Line($"id          {a.Id}");
            s.Line($"cmd         {a.Cmd}");
            s.Line($"instances   {a.TasksRunning} running of {a.Instances} ({a.TasksStaged} staged, {HealthText(a)} healthy)");
            s.Line($"resources   cpus {Session.Number(a.Cpus)}, mem {Session.Number(a.Mem)} MiB, disk {Session.Number(a.Disk)} MiB");
            s.Line($"version     {a.Version}");
            s.Line($"deployments {(a.Deployments is { Count: > 0 } d ? string.Join(", ", d.Select(x => x.Id)) : "none")}");
            if (a.Labels is { Count: > 0 } labels)
            {
                s.Line($"labels      {string.Join(", ", labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => l.Key + "=" + l.Value))}");
            }

            if (a.Extra?.TryGetValue("stateModel", out var model) == true && model.TryGetProperty("type", out var modelType))
            {
                var leaders = (a.Tasks ?? []).Where(t => t.ModelState == "LEADER").Select(t => t.Id).ToList();
                s.Line($"state model {modelType.GetString()}{(modelType.GetString() == "LeaderStandby" ? $", leader {(leaders.Count == 0 ? "none" : string.Join(", ", leaders))}" : "")}");
            }

            if (a.Extra?.TryGetValue("lastTaskFailure", out var failure) == true)
            {
                s.Line($"last failure {failure.GetProperty("taskId")}: {failure.GetProperty("state")} {failure.GetProperty("message")}");
            }

            s.Write(TasksTable(a.Tasks ?? []));
            return DcosCli.Ok;
        });

        // update
        var update = Cmd("update", "Changes an app: fields in FILE replace the current ones (Marathon partial update), or with --patch a JSON merge patch.",
            "dcos app update /web web-v2.json --wait\necho '{\"env\":{\"MODE\":\"fast\"}}' | dcos app update /web - --patch");
        var updateId = idArg();
        var updateFile = fileArg();
        var patch = new Option<bool>("--patch") { Description = "FILE is a JSON merge patch (RFC 7386): null removes a field" };
        update.Add(updateId);
        update.Add(updateFile);
        update.Add(patch);
        var updateWait = AddWaitOptions(update);
        update.Handle(env, (s, parse, ct) =>
        {
            var id = AppsClient.AppPath(parse.GetValue(updateId)!);
            var json = s.ReadJsonInput(parse.GetValue(updateFile)!);
            return ChangeAsync(s, parse, updateWait, $"updated {id}", async () =>
            {
                var result = parse.GetValue(patch)
                    ? await s.Apps.PatchAppAsync(id, json, parse.GetValue(updateWait.Force), ct).ConfigureAwait(false)
                    : await s.Apps.UpdateAppAsync(id, json, parse.GetValue(updateWait.Force), ct).ConfigureAwait(false);
                return result.DeploymentId;
            }, ct);
        });

        // scale
        var scale = Cmd("scale", "Sets the number of instances (no restart of the others).", "dcos app scale /web 3 --wait");
        var scaleId = idArg();
        var count = new Argument<int>("N") { Description = "Instances wanted (0 or more)" };
        scale.Add(scaleId);
        scale.Add(count);
        var scaleWait = AddWaitOptions(scale);
        scale.Handle(env, (s, parse, ct) =>
        {
            var id = AppsClient.AppPath(parse.GetValue(scaleId)!);
            var n = parse.GetValue(count);
            if (n < 0)
            {
                throw new UserException($"N must be 0 or more (got {n})");
            }

            return ScaleAsync();

            async Task<int> ScaleAsync()
            {
                await s.Apps.GetAppAsync(id, ct).ConfigureAwait(false); // PUT would create a missing app: say it does not exist
                return await ChangeAsync(s, parse, scaleWait, $"scaling {id} to {n}", async () =>
                    (await s.Apps.ScaleAppAsync(id, n, parse.GetValue(scaleWait.Force), ct).ConfigureAwait(false)).DeploymentId, ct).ConfigureAwait(false);
            }
        });

        // suspend / resume
        var suspend = Cmd("suspend", "Scales an app to 0 instances, remembering how many it had (label " + SuspendedInstancesLabel + ").", "dcos app suspend /web");
        var suspendId = idArg();
        suspend.Add(suspendId);
        var suspendWait = AddWaitOptions(suspend);
        suspend.Handle(env, async (s, parse, ct) =>
        {
            var id = AppsClient.AppPath(parse.GetValue(suspendId)!);
            var current = await s.Apps.GetAppAsync(id, ct).ConfigureAwait(false);
            if (current.Instances == 0)
            {
                s.Line($"{id} is already suspended");
                return DcosCli.Ok;
            }

            var body = new JsonObject
            {
                ["instances"] = 0,
                ["labels"] = new JsonObject { [SuspendedInstancesLabel] = current.Instances.ToString(CultureInfo.InvariantCulture) },
            }.ToJsonString();
            return await ChangeAsync(s, parse, suspendWait, $"suspending {id} (had {current.Instances} instances)", async () =>
                (await s.Apps.PatchAppAsync(id, body, parse.GetValue(suspendWait.Force), ct).ConfigureAwait(false)).DeploymentId, ct).ConfigureAwait(false);
        });

        var resume = Cmd("resume", "Scales a suspended app back to the instances it had before 'app suspend' (or --instances).", "dcos app resume /web --wait");
        var resumeId = idArg();
        var resumeInstances = new Option<int?>("--instances") { Description = "Instances to resume with (default: those before suspend, else 1)" };
        resume.Add(resumeId);
        resume.Add(resumeInstances);
        var resumeWait = AddWaitOptions(resume);
        resume.Handle(env, async (s, parse, ct) =>
        {
            var id = AppsClient.AppPath(parse.GetValue(resumeId)!);
            var current = await s.Apps.GetAppAsync(id, ct).ConfigureAwait(false);
            var remembered = current.Labels?.GetValueOrDefault(SuspendedInstancesLabel) is { } text
                && int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : (int?)null;
            var instances = parse.GetValue(resumeInstances) ?? remembered ?? 1;
            if (current.Instances > 0 && remembered is null && parse.GetValue(resumeInstances) is null)
            {
                s.Line($"{id} is not suspended ({current.Instances} instances)");
                return DcosCli.Ok;
            }

            var body = new JsonObject { ["instances"] = instances, ["labels"] = new JsonObject { [SuspendedInstancesLabel] = null } }.ToJsonString();
            return await ChangeAsync(s, parse, resumeWait, $"resuming {id} with {instances} instances", async () =>
                (await s.Apps.PatchAppAsync(id, body, parse.GetValue(resumeWait.Force), ct).ConfigureAwait(false)).DeploymentId, ct).ConfigureAwait(false);
        });

        // restart
        var restart = Cmd("restart", "Replaces every instance (rolling, within the app's upgrade strategy).", "dcos app restart /web --wait");
        var restartId = idArg();
        restart.Add(restartId);
        var restartWait = AddWaitOptions(restart);
        restart.Handle(env, (s, parse, ct) =>
        {
            var id = AppsClient.AppPath(parse.GetValue(restartId)!);
            return ChangeAsync(s, parse, restartWait, $"restarting {id}", async () =>
                (await s.Apps.RestartAppAsync(id, parse.GetValue(restartWait.Force), ct).ConfigureAwait(false)).DeploymentId, ct);
        });

        // remove
        var remove = Cmd("remove", "Stops every instance and removes the app.", "dcos app remove /web");
        var removeId = idArg();
        remove.Add(removeId);
        var removeWait = AddWaitOptions(remove);
        remove.Handle(env, (s, parse, ct) =>
        {
            var id = AppsClient.AppPath(parse.GetValue(removeId)!);
            return ChangeAsync(s, parse, removeWait, $"removing {id}", async () =>
                (await s.Apps.RemoveAppAsync(id, parse.GetValue(removeWait.Force), ct).ConfigureAwait(false)).DeploymentId, ct);
        });

        // tasks
        var tasks = Cmd("tasks", "Lists an app's instances: task id, agent, state, model state (LEADER/STANDBY), ports, health.", "dcos app tasks /web --json");
        var tasksId = idArg();
        var tasksJson = JsonOption();
        tasks.Add(tasksId);
        tasks.Add(tasksJson);
        tasks.Handle(env, async (s, parse, ct) =>
        {
            var list = await s.Apps.GetAppTasksAsync(parse.GetValue(tasksId)!, ct).ConfigureAwait(false);
            if (parse.GetValue(tasksJson))
            {
                s.Json(list, MarathonJson.Options);
            }
            else
            {
                s.Write(TasksTable(list));
            }

            return DcosCli.Ok;
        });

        // versions
        var versions = Cmd("versions", "Lists an app's stored versions, newest first; with --show VERSION prints that definition.", "dcos app versions /web\ndcos app versions /web --show 2026-01-01T00:00:00.000Z");
        var versionsId = idArg();
        var versionsJson = JsonOption();
        var showVersion = new Option<string?>("--show") { Description = "Print the definition at this version" };
        versions.Add(versionsId);
        versions.Add(versionsJson);
        versions.Add(showVersion);
        versions.Handle(env, async (s, parse, ct) =>
        {
            var id = parse.GetValue(versionsId)!;
            if (parse.GetValue(showVersion) is { } version)
            {
                s.Json(JsonNode.Parse(await s.Apps.GetVersionAsync(id, version, ct).ConfigureAwait(false)));
                return DcosCli.Ok;
            }

            var all = await s.Apps.GetVersionsAsync(id, ct).ConfigureAwait(false);
            if (parse.GetValue(versionsJson))
            {
                s.Json(new JsonObject { ["versions"] = new JsonArray([.. all.Select(v => (JsonNode)JsonValue.Create(v))]) });
            }
            else
            {
                all.ForEach(v => s.Line(v));
            }

            return DcosCli.Ok;
        });

        // plan
        var plan = Cmd("plan", "Dry run: the deployment steps an app or group definition would take. Changes nothing.", "dcos app plan web-v2.json");
        var planFile = fileArg();
        var planJson = JsonOption();
        plan.Add(planFile);
        plan.Add(planJson);
        plan.Handle(env, async (s, parse, ct) =>
        {
            var result = await s.Apps.PlanAsync(s.ReadJsonInput(parse.GetValue(planFile)!), ct).ConfigureAwait(false);
            if (parse.GetValue(planJson))
            {
                s.Json(result, MarathonJson.Options);
                return DcosCli.Ok;
            }

            if (result.Steps.Count == 0)
            {
                s.Line("no change: nothing to deploy");
                return DcosCli.Ok;
            }

            for (var i = 0; i < result.Steps.Count; i++)
            {
                s.Line($"step {i + 1}: {string.Join(", ", result.Steps[i].Actions.Select(a => $"{a.Action} {a.App}"))}");
            }

            return DcosCli.Ok;
        });

        // why
        var why = Cmd("why", "Why an app's instances are waiting: the reasons offers were refused (resources, constraints), by agent.", "dcos app why /web");
        var whyId = idArg();
        var whyJson = JsonOption();
        why.Add(whyId);
        why.Add(whyJson);
        why.Handle(env, async (s, parse, ct) =>
        {
            var id = AppsClient.AppPath(parse.GetValue(whyId)!);
            var queue = await s.Apps.GetQueueAsync(ct).ConfigureAwait(false);
            var item = queue.FirstOrDefault(q => q.App?.Id == id);
            if (parse.GetValue(whyJson))
            {
                s.Json(item, MarathonJson.Options);
                return DcosCli.Ok;
            }

            if (item is null)
            {
                var a = await s.Apps.GetAppAsync(id, ct).ConfigureAwait(false);
                s.Line($"{id} is not waiting for offers: {a.TasksRunning} of {a.Instances} instances running, {a.TasksStaged} staging");
                return DcosCli.Ok;
            }

            s.Line($"{id}: {item.Count} instance(s) waiting since {item.Since}"
                + (item.Delay is { Overdue: false } d ? $", launch backoff {d.TimeLeftSeconds} s" : ""));
            if (item.WaitingReasons.Count == 0)
            {
                s.Line("no offer refused yet (waiting for offers)");
                return DcosCli.Ok;
            }

            var table = Session.NewTable("REASON", "DETAIL", "OFFERS", "AGENTS");
            foreach (var r in item.WaitingReasons)
            {
                Session.Row(table, r.Reason, r.Detail, Session.Number(r.Offers), string.Join(", ", r.Agents));
            }

            s.Write(table);
            return DcosCli.Ok;
        });

        foreach (var c in new[] { add, list, show, update, scale, suspend, resume, restart, remove, tasks, versions, plan, why })
        {
            app.Add(c);
        }

        return app;
    }

    private static string HealthText(AppDto a) =>
        a.TasksHealthy + a.TasksUnhealthy == 0 ? "-" : $"{a.TasksHealthy}/{a.TasksRunning}";

    internal static string Truncate(string? text, int max)
    {
        text = (text ?? "").ReplaceLineEndings(" ");
        return text.Length <= max ? text : text[..(max - 1)] + "…";
    }

    private static OutputTable TasksTable(IEnumerable<AppTaskDto> tasks)
    {
        var table = Session.NewTable("TASK", "HOST", "STATE", "MODEL", "PORTS", "HEALTH", "STARTED", "VERSION");
        foreach (var t in tasks.OrderBy(t => t.Id, StringComparer.Ordinal))
        {
            var health = t.HealthCheckResults is { Count: > 0 } h ? (h[0].Alive ? "healthy" : "unhealthy") : "-";
            Session.Row(table, t.Id, t.Host, t.State, t.ModelState ?? "-", string.Join(",", t.Ports ?? []), health, t.StartedAt ?? "-", t.Version);
        }

        return table;
    }

    // ---- deployment -----------------------------------------------------------------------------------------------

    private static Command DeploymentCommand(Env env)
    {
        var deployment = new Command("deployment", "Running deployments of Apps.\n\nExample:\n  dcos deployment list");
        var idArg = () => new Argument<string>("ID") { Description = "Deployment id" };

        var list = Cmd("list", "Lists running deployments: apps, current step, actions.", "dcos deployment list --json");
        var listJson = JsonOption();
        list.Add(listJson);
        list.Handle(env, async (s, parse, ct) =>
        {
            var all = await s.Apps.ListDeploymentsAsync(ct).ConfigureAwait(false);
            if (parse.GetValue(listJson))
            {
                s.Json(all, MarathonJson.Options);
                return DcosCli.Ok;
            }

            var table = Session.NewTable("ID", "APPS", "STEP", "ACTIONS", "VERSION");
            foreach (var d in all)
            {
                Session.Row(table, d.Id, string.Join(",", d.AffectedApps), $"{d.CurrentStep}/{d.TotalSteps}",
                    string.Join(", ", d.CurrentActions.Select(a => $"{a.Action} {a.App}")), d.Version);
            }

            s.Write(table);
            return DcosCli.Ok;
        });

        var watch = Cmd("watch", "Follows a deployment until it succeeds (exit 0) or fails (exit 1).", "dcos deployment watch 5ed4c0c5-9ff8-4a6f-a0cd-f57f59a34b43");
        var watchId = idArg();
        var timeout = new Option<int>("--timeout") { Description = "Give up after this many seconds (exit 1)", DefaultValueFactory = _ => 600 };
        watch.Add(watchId);
        watch.Add(timeout);
        watch.Handle(env, async (s, parse, ct) =>
        {
            var id = parse.GetValue(watchId)!;
            await using var w = await DeploymentWatch.StartAsync(s, ct).ConfigureAwait(false);
            var all = await s.Apps.ListDeploymentsAsync(ct).ConfigureAwait(false);
            if (all.All(d => d.Id != id))
            {
                throw new UserException($"deployment {id} is not running (finished, failed or unknown)");
            }

            return await w.WaitAsync(id, TimeSpan.FromSeconds(parse.GetValue(timeout)), ct).ConfigureAwait(false);
        });

        var rollback = Cmd("rollback", "Rolls a running deployment back: a new deployment restores the previous definitions.", "dcos deployment rollback 5ed4c0c5-9ff8-4a6f-a0cd-f57f59a34b43");
        var rollbackId = idArg();
        rollback.Add(rollbackId);
        rollback.Handle(env, async (s, parse, ct) =>
        {
            var result = await s.Apps.DeleteDeploymentAsync(parse.GetValue(rollbackId)!, force: false, ct).ConfigureAwait(false);
            s.Line($"rolling back (deployment {result?.DeploymentId})");
            return DcosCli.Ok;
        });

        var stop = Cmd("stop", "Stops a running deployment where it is (no rollback).", "dcos deployment stop 5ed4c0c5-9ff8-4a6f-a0cd-f57f59a34b43");
        var stopId = idArg();
        stop.Add(stopId);
        stop.Handle(env, async (s, parse, ct) =>
        {
            await s.Apps.DeleteDeploymentAsync(parse.GetValue(stopId)!, force: true, ct).ConfigureAwait(false);
            s.Line($"stopped deployment {parse.GetValue(stopId)}");
            return DcosCli.Ok;
        });

        deployment.Add(list);
        deployment.Add(watch);
        deployment.Add(rollback);
        deployment.Add(stop);
        return deployment;
    }
}
