using System.Text.Json;
using System.Text.Json.Nodes;
using DatacenterOs.Apps.Core;
using DatacenterOs.Apps.Core.Deployment;
using DatacenterOs.Kernel.Contracts;

namespace DatacenterOs.Apps;

public sealed partial class AppsService
{
    /// <summary>Apps whose instances changed since deployments were last advanced.</summary>
    private readonly HashSet<PathId> _touched = [];

    /// <summary>Advance every deployment at the next opportunity (housekeeping, restore).</summary>
    private bool _advanceAll = true;

    private readonly Dictionary<string, RunningDeployment> _deploymentsById = new(StringComparer.Ordinal);
    private readonly Dictionary<PathId, List<RunningDeployment>> _deploymentsByApp = [];

    /// <summary>The running deployments that affect <paramref name="id"/>, oldest first.</summary>
    private IReadOnlyList<RunningDeployment> DeploymentsOf(PathId id) =>
        _deploymentsByApp.TryGetValue(id, out var list) ? list : [];

    private void AddDeployment(RunningDeployment deployment)
    {
        _deployments.Add(deployment);
        _deploymentsById[deployment.Id] = deployment;
        foreach (var id in deployment.Plan.AffectedAppIds)
        {
            if (!_deploymentsByApp.TryGetValue(id, out var list))
            {
                _deploymentsByApp[id] = list = [];
            }

            list.Add(deployment);
        }
    }

    /// <summary>Apps whose deployment ended: if no other deployment manages them, they converge to their definition.</summary>
    private readonly HashSet<PathId> _releaseCandidates = [];

    // ---- Deployments --------------------------------------------------------------------------------------------------

    /// <summary>
    /// Target definitions for a change: a definition without a version gets <paramref name="version"/> when it differs
    /// from the current one (ignoring versions) and keeps the current version otherwise; an explicit version is kept
    /// (a restart or a rollback).
    /// </summary>
    private static Dictionary<PathId, AppDefinition> Stamp(
        Dictionary<PathId, AppDefinition> current, Dictionary<PathId, AppDefinition> target, DateTimeOffset version)
    {
        var stamped = new Dictionary<PathId, AppDefinition>();
        foreach (var (id, app) in target)
        {
            if (app.Version is not null)
            {
                stamped[id] = app;
            }
            else if (current.TryGetValue(id, out var old) && (old with { Version = null }).Equals(app))
            {
                stamped[id] = old;
            }
            else
            {
                stamped[id] = app with { Version = version };
            }
        }

        return stamped;
    }

    /// <summary>The deployments a change of <paramref name="plan"/> conflicts with.</summary>
    private List<RunningDeployment> Conflicts(DeploymentPlan plan, IEnumerable<PathId> ids)
    {
        var idSet = ids.ToHashSet();
        idSet.UnionWith(plan.AffectedAppIds);
        return [.. idSet.SelectMany(DeploymentsOf).Distinct().OrderBy(d => d.Seq)];
    }

    /// <summary>409 body listing <paramref name="locking"/> (Marathon <c>AppLockedException</c>).</summary>
    private static JsonObject Locked(List<RunningDeployment> locking) => new()
    {
        ["message"] = "App is locked by one or more deployments. Override with the option '?force=true'. "
            + $"View details at '/v2/deployments/{locking[0].Id}'.",
        ["deployments"] = new JsonArray([.. locking.Select(d => (JsonNode)new JsonObject { ["id"] = d.Id })]),
    };

    /// <summary>Removes running deployments without rolling them back (<c>force=true</c>).</summary>
    private void Cancel(IEnumerable<RunningDeployment> deployments)
    {
        foreach (var deployment in deployments.ToList())
        {
            RemoveDeployment(deployment);
        }
    }

    /// <summary>Forgets a finished, failed or cancelled deployment; its apps are checked by <see cref="AdvanceDeployments"/>.</summary>
    private void RemoveDeployment(RunningDeployment deployment)
    {
        deployment.Removed = true;
        _deployments.Remove(deployment);
        _deploymentsById.Remove(deployment.Id);
        foreach (var id in deployment.Plan.AffectedAppIds)
        {
            if (_deploymentsByApp.TryGetValue(id, out var list) && list.Remove(deployment) && list.Count == 0)
            {
                _deploymentsByApp.Remove(id);
            }
        }

        _dirtyDeployments.Add(deployment.Id);
        foreach (var id in deployment.Plan.AffectedAppIds)
        {
            _releaseCandidates.Add(id);
        }
    }

    /// <summary>
    /// Starts the deployment of <paramref name="plan"/> (whose original and target hold just the apps the change
    /// touches): the API shows the targets at once; the steps are applied one after the other by
    /// <see cref="AdvanceDeployments"/>.
    /// </summary>
    private RunningDeployment StartDeployment(
        DeploymentPlan plan,
        bool rollbackOnFailure,
        IReadOnlyDictionary<PathId, IReadOnlyList<string>>? toKill = null,
        IReadOnlyDictionary<PathId, DateTimeOffset>? configVersions = null)
    {
        var deployment = new RunningDeployment(plan, _time.GetUtcNow())
        {
            RollbackOnFailure = rollbackOnFailure,
            Seq = ++_deploymentSeq,
            ToKill = toKill,
            ConfigVersions = configVersions,
            OriginalConfigVersions = plan.Original.Keys.Where(_apps.ContainsKey).ToDictionary(id => id, id => _apps[id].ConfigVersion),
        };
        foreach (var (id, _) in plan.Original)
        {
            if (!plan.Target.ContainsKey(id) && _apps.Remove(id))
            {
                _dirtyApps.Add(id);
            }
        }

        foreach (var (id, app) in plan.Target)
        {
            if (_apps.TryGetValue(id, out var state))
            {
                if (!state.App.Equals(app))
                {
                    if (state.App.Instances != app.Instances)
                    {
                        state.LastScalingAt = plan.Version;
                    }

                    if (state.App.Version != app.Version)
                    {
                        _newVersions.Add(app);
                    }

                    state.App = app;
                    state.Backoff = state.Backoff.ForApp(app);
                    _dirtyApps.Add(id);
                }
            }
            else
            {
                _apps[id] = new AppState(app, plan.Version) { Applied = null };
                _newVersions.Add(app);
                _dirtyApps.Add(id);
            }
        }

        AddDeployment(deployment);
        _dirtyDeployments.Add(deployment.Id);
        Events.Publish("deployment_info", () => new JsonObject
        {
            ["plan"] = PlanJson(deployment.Plan),
            ["currentStep"] = deployment.Plan.Steps.Count > 0 ? StepJson(deployment.Plan.Steps[0]) : null,
        });
        Advance(deployment);
        return deployment;
    }

    /// <summary>Moves every running deployment forward as far as it can go; then frees apps no deployment manages.</summary>
    private void AdvanceDeployments()
    {
        if (_touched.Count > 0 || _advanceAll)
        {
            // Only deployments whose apps' instances changed can have finished a step (the housekeeping tick checks
            // all of them once a second, which also covers deadlines).
            var due = _advanceAll ? [.. _deployments] : _touched.SelectMany(DeploymentsOf).Distinct().OrderBy(d => d.Seq).ToList();
            foreach (var deployment in due)
            {
                Advance(deployment);
            }

            _touched.Clear();
            _advanceAll = false;
        }

        if (_releaseCandidates.Count == 0)
        {
            return;
        }

        var candidates = _releaseCandidates.ToList();
        _releaseCandidates.Clear();
        foreach (var id in candidates)
        {
            if (!_apps.TryGetValue(id, out var state)
                || (state.Applied is { } applied && (ReferenceEquals(applied, state.App) || applied.Equals(state.App)))
                || DeploymentsOf(id).Count > 0)
            {
                continue;
            }

            // Not managed by a deployment any more (cancelled with force, failed, or restored that way): converge to the
            // definition the API shows.
            var previous = state.Applied;
            state.Applied = state.App;
            if (previous is null || DeploymentPlanner.IsUpgrade(previous, state.App))
            {
                state.ConfigVersion = state.App.Version ?? state.ConfigVersion;
            }

            _dirtyApps.Add(state.Id);
            Converge(state);
        }
    }

    private void Advance(RunningDeployment deployment)
    {
        while (!deployment.Removed)
        {
            if (deployment.CurrentStep > 0)
            {
                if (!IsStepDone(deployment.Plan.Steps[deployment.CurrentStep - 1]))
                {
                    return;
                }

                Events.Publish("deployment_step_success", () => new JsonObject
                {
                    ["plan"] = PlanJson(deployment.Plan),
                    ["currentStep"] = StepJson(deployment.Plan.Steps[deployment.CurrentStep - 1]),
                });
            }

            if (deployment.CurrentStep == deployment.Plan.Steps.Count)
            {
                RemoveDeployment(deployment);
                Events.Publish("deployment_success", () => new JsonObject { ["id"] = deployment.Id, ["plan"] = PlanJson(deployment.Plan) });
                return;
            }

            deployment.CurrentStep++;
            deployment.LastProgressAt = _time.GetUtcNow();
            deployment.ProgressMark = -1;
            _dirtyDeployments.Add(deployment.Id);
            foreach (var action in deployment.Plan.Steps[deployment.CurrentStep - 1].Actions)
            {
                Apply(deployment, action);
            }
        }
    }

    /// <summary>Starts one action: sets the app's applied definition (and configuration version) and converges it.</summary>
    private void Apply(RunningDeployment deployment, DeploymentAction action)
    {
        var id = action.AppId;
        if (action is StopApplication)
        {
            foreach (var instance in _tasks.Values.Where(i => i.AppId == id).ToList())
            {
                Kill(null, instance);
            }

            Events.Publish("app_terminated_event", () => new JsonObject { ["appId"] = id.ToString() });
            return;
        }

        if (!_apps.TryGetValue(id, out var state))
        {
            return;
        }

        var previous = state.Applied;
        switch (action)
        {
            case StartApplication start:
                state.Applied = start.App with { Instances = 0 };
                state.ConfigVersion = start.App.Version ?? deployment.Plan.Version;
                break;
            case ScaleApplication scale:
                state.Applied = scale.App.Instances == scale.ScaleTo ? scale.App : scale.App with { Instances = scale.ScaleTo };
                if (previous is null || DeploymentPlanner.IsUpgrade(previous, scale.App))
                {
                    state.ConfigVersion = scale.App.Version ?? deployment.Plan.Version;
                }

                foreach (var taskId in scale.ToKill ?? [])
                {
                    if (state.Instances.TryGetValue(taskId, out var doomed))
                    {
                        Kill(state, doomed);
                    }
                }

                break;
            case RestartApplication restart:
                state.Applied = restart.App;
                state.ConfigVersion = deployment.ConfigVersions?.GetValueOrDefault(id) is { } restored && restored != default
                    ? restored
                    : restart.App.Version ?? deployment.Plan.Version;
                state.Backoff = state.Backoff.Reset();
                break;
        }

        _dirtyApps.Add(id);
        Converge(state);
    }

    private bool IsStepDone(DeploymentStep step) => step.Actions.All(action => action switch
    {
        StartApplication => true,
        StopApplication => !_tasks.Values.Any(i => i.AppId == action.AppId),
        _ => !_apps.TryGetValue(action.AppId, out var state) || IsSettled(state),
    });

    /// <summary>True when the app's instances match its applied definition: count, configuration, health.</summary>
    private static bool IsSettled(AppState state)
    {
        if (state.Applied is not { } app)
        {
            return false;
        }

        var instances = state.Instances.Values;
        return instances.Count == app.Instances
            && instances.All(i => !i.Decommissioned && i.ConfigVersion == state.ConfigVersion && i.IsConsideredHealthy(app));
    }

    /// <summary>Fails deployments whose current step made no progress within its apps' <c>progressDeadlineSeconds</c>.</summary>
    private void CheckDeadlines(DateTimeOffset now)
    {
        foreach (var deployment in _deployments.ToList())
        {
            if (deployment.CurrentStep == 0)
            {
                continue;
            }

            var step = deployment.Plan.Steps[deployment.CurrentStep - 1];
            var deadlines = step.Actions.Select(a => a.App.ProgressDeadlineSeconds).OfType<int>().ToList();
            if (deadlines.Count == 0)
            {
                continue;
            }

            var mark = step.Actions.Sum(a => _apps.TryGetValue(a.AppId, out var s)
                ? s.Instances.Values.Count(i => i.ConfigVersion == s.ConfigVersion && s.Applied is { } app && i.IsConsideredHealthy(app))
                : 0);
            if (mark != deployment.ProgressMark)
            {
                deployment.ProgressMark = mark;
                deployment.LastProgressAt = now;
                continue;
            }

            if (now - deployment.LastProgressAt < TimeSpan.FromSeconds(deadlines.Min()))
            {
                continue;
            }

            RemoveDeployment(deployment);
            var reason = $"no progress for {deadlines.Min()} s (progressDeadlineSeconds) in step {deployment.CurrentStep} of {deployment.Plan.Steps.Count}";
            Events.Publish("deployment_failed", () => new JsonObject { ["id"] = deployment.Id, ["plan"] = PlanJson(deployment.Plan), ["reason"] = reason });
            if (deployment.RollbackOnFailure)
            {
                Rollback(deployment);
            }
        }
    }

    /// <summary>
    /// Reverts the apps <paramref name="deployment"/> touches to their definitions before it (Marathon's
    /// <c>DELETE /v2/deployments/{id}</c>): a new deployment, itself locked and observable.
    /// </summary>
    private RunningDeployment Rollback(RunningDeployment deployment)
    {
        RemoveDeployment(deployment);
        var ids = deployment.Plan.AffectedAppIds;
        var current = ids.Where(_apps.ContainsKey).ToDictionary(id => id, id => _apps[id].App);
        var original = ids.Where(deployment.Plan.Original.ContainsKey).ToDictionary(id => id, id => deployment.Plan.Original[id]);
        var plan = DeploymentPlanner.Plan(current, original, _newId, NextVersion());
        return StartDeployment(plan, rollbackOnFailure: false, configVersions: deployment.OriginalConfigVersions);
    }

    private static JsonObject PlanJson(DeploymentPlan plan)
    {
        var json = plan.ToMarathonJson(0);
        json.Remove("currentActions");
        json.Remove("currentStep");
        json.Remove("totalSteps");
        json["original"] = GroupOf(plan.Original.Values);
        json["target"] = GroupOf(plan.Target.Values);
        return json;
    }

    private static JsonObject GroupOf(IEnumerable<AppDefinition> apps) => new()
    {
        ["id"] = "/",
        ["apps"] = new JsonArray([.. apps.Select(a => (JsonNode)AppDefinitionJson.ToJsonObject(a))]),
    };

    private static JsonObject StepJson(DeploymentStep step) => new()
    {
        ["actions"] = new JsonArray([.. step.Actions.Select(a => (JsonNode)new JsonObject { ["action"] = a.ActionName, ["app"] = a.AppId.ToString() })]),
    };

    // ---- Events -------------------------------------------------------------------------------------------------------

    private void PublishStatus(Instance instance, TaskStatusDto status)
    {
        Events.Publish("status_update_event", () => new JsonObject
        {
            ["slaveId"] = status.AgentId?.Value ?? instance.AgentId,
            ["taskId"] = instance.TaskId,
            ["taskStatus"] = status.State,
            ["message"] = status.Message ?? "",
            ["appId"] = instance.AppId.ToString(),
            ["host"] = instance.Agent?.Hostname,
            ["ports"] = new JsonArray([.. instance.Ports.Select(p => (JsonNode)JsonValue.Create(p))]),
            ["version"] = AppsJsonWriter.Timestamp(instance.AppVersion),
            ["healthy"] = status.Healthy,
        });
        Events.Publish("instance_changed_event", () => new JsonObject
        {
            ["instanceId"] = instance.TaskId,
            ["condition"] = Condition(status.State),
            ["runSpecId"] = instance.AppId.ToString(),
            ["agentId"] = status.AgentId?.Value ?? instance.AgentId,
            ["host"] = instance.Agent?.Hostname,
            ["runSpecVersion"] = AppsJsonWriter.Timestamp(instance.AppVersion),
            ["goal"] = instance.Decommissioned ? "Decommissioned" : "Running",
        });
    }

    private void PublishHealth(Instance instance)
    {
        Events.Publish("health_status_changed_event", () => new JsonObject
        {
            ["appId"] = instance.AppId.ToString(),
            ["instanceId"] = instance.TaskId,
            ["version"] = AppsJsonWriter.Timestamp(instance.AppVersion),
            ["alive"] = instance.Healthy == true,
        });
        Events.Publish("instance_health_changed_event", () => new JsonObject
        {
            ["instanceId"] = instance.TaskId,
            ["runSpecId"] = instance.AppId.ToString(),
            ["runSpecVersion"] = AppsJsonWriter.Timestamp(instance.AppVersion),
            ["healthy"] = instance.Healthy,
        });
    }

    /// <summary>Marathon's instance condition name for a Mesos task state (<c>core/condition/Condition.scala</c>).</summary>
    private static string Condition(string state) => state switch
    {
        TaskStates.Staging => "Staging",
        TaskStates.Starting => "Starting",
        TaskStates.Running => "Running",
        TaskStates.Killing => "Killing",
        TaskStates.Finished => "Finished",
        TaskStates.Failed => "Failed",
        TaskStates.Killed => "Killed",
        TaskStates.Error => "Error",
        TaskStates.Dropped => "Dropped",
        TaskStates.Gone => "Gone",
        TaskStates.Unreachable => "Unreachable",
        TaskStates.Unknown => "Unknown",
        _ => "Gone",
    };

    // ---- Persistence --------------------------------------------------------------------------------------------------

    private async Task PersistAsync()
    {
        if (_store is null)
        {
            _dirtyDiscovery.Clear();
            _dirtyApps.Clear();
            _dirtyInstances.Clear();
            _dirtyDeployments.Clear();
            _newVersions.Clear();
            _frameworkIdDirty = false;
            return;
        }

        var changes = new StoreChanges();
        if (_frameworkIdDirty && _frameworkId is not null)
        {
            changes.FrameworkId = _frameworkId;
        }

        foreach (var id in _dirtyApps)
        {
            if (_apps.TryGetValue(id, out var state))
            {
                changes.Apps.Add(ToStored(state));
            }
            else
            {
                changes.DeletedApps.Add(id.ToString());
            }
        }

        foreach (var app in _newVersions)
        {
            var id = app.PathId.Canonicalize();
            if (_apps.TryGetValue(id, out var state) && app.Version is { } version)
            {
                var json = ReferenceEquals(state.App, app) ? System.Text.Encoding.UTF8.GetString(state.DefinitionUtf8) : AppDefinitionJson.Serialize(app);
                changes.Versions.Add((id.ToString(), AppsJsonWriter.Timestamp(version), json));
            }
        }

        foreach (var taskId in _dirtyInstances)
        {
            if (_tasks.TryGetValue(taskId, out var instance))
            {
                changes.Instances.Add(ToStored(instance));
            }
            else
            {
                changes.DeletedInstances.Add(taskId);
            }
        }

        foreach (var id in _dirtyDeployments)
        {
            if (_deploymentsById.TryGetValue(id, out var deployment))
            {
                changes.Deployments.Add(ToStored(deployment));
            }
            else
            {
                changes.DeletedDeployments.Add(id);
            }
        }

        AddDiscoveryChanges(changes);
        _dirtyApps.Clear();
        _dirtyInstances.Clear();
        _dirtyDeployments.Clear();
        _newVersions.Clear();
        _frameworkIdDirty = false;
        if (!changes.IsEmpty)
        {
            await _store.SaveAsync(changes, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private static JsonElement ToElement(AppDefinition app) => JsonSerializer.SerializeToElement(AppDefinitionJson.ToJsonObject(app), AppsStore.Json);

    private static AppDefinition FromElement(JsonElement element) => AppDefinitionJson.Parse(element.GetRawText()).GetAppOrThrow();

    private static StoredApp ToStored(AppState state) => new()
    {
        Id = state.Id.ToString(),
        Definition = System.Text.Encoding.UTF8.GetString(state.DefinitionUtf8),
        Applied = state.Applied is null ? "none" : ReferenceEquals(state.Applied, state.App) || state.Applied.Equals(state.App) ? "same" : "own",
        AppliedDefinition = state.Applied is { } applied && !ReferenceEquals(applied, state.App) && !applied.Equals(state.App) ? AppDefinitionJson.Serialize(applied) : null,
        ConfigVersion = state.ConfigVersion,
        LastScalingAt = state.LastScalingAt,
        BackoffFailures = state.Backoff.Failures,
        BackoffDelaySeconds = state.Backoff.CurrentDelay.TotalSeconds,
        BackoffLastFailureAt = state.Backoff.LastFailureAt,
        LastTaskFailure = state.LastTaskFailure,
    };

    private static StoredInstance ToStored(Instance instance) => new()
    {
        TaskId = instance.TaskId,
        AppId = instance.AppId.ToString(),
        ConfigVersion = instance.ConfigVersion,
        AppVersion = instance.AppVersion,
        State = instance.State,
        AgentId = instance.AgentId,
        Hostname = instance.Agent?.Hostname,
        Attributes = instance.Agent?.Attributes?.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal),
        StagedAt = instance.StagedAt,
        StartedAt = instance.StartedAt,
        Healthy = instance.Healthy,
        ConsecutiveHealthFailures = instance.ConsecutiveHealthFailures,
        Decommissioned = instance.Decommissioned,
        Ports = [.. instance.Ports],
    };

    private static StoredDeployment ToStored(RunningDeployment deployment) => new()
    {
        Id = deployment.Id,
        Seq = deployment.Seq,
        Version = deployment.Plan.Version,
        Original = [.. deployment.Plan.Original.Values.Select(ToElement)],
        Target = [.. deployment.Plan.Target.Values.Select(ToElement)],
        ToKill = deployment.ToKill?.ToDictionary(kv => kv.Key.ToString(), kv => kv.Value.ToList()),
        CurrentStep = deployment.CurrentStep,
        StartedAt = deployment.StartedAt,
        LastProgressAt = deployment.LastProgressAt,
        RollbackOnFailure = deployment.RollbackOnFailure,
        ConfigVersions = deployment.ConfigVersions?.ToDictionary(kv => kv.Key.ToString(), kv => kv.Value),
        OriginalConfigVersions = deployment.OriginalConfigVersions.ToDictionary(kv => kv.Key.ToString(), kv => kv.Value),
    };

    /// <summary>Rebuilds the in-memory state from the store (before subscribing: nothing is sent).</summary>
    private void Restore(StoredState stored)
    {
        _frameworkId ??= stored.FrameworkId;
        foreach (var row in stored.Apps)
        {
            var app = AppDefinitionJson.Parse(row.Definition).GetAppOrThrow();
            var state = new AppState(app, row.ConfigVersion)
            {
                Applied = row.Applied switch
                {
                    "none" => null,
                    "own" when row.AppliedDefinition is not null => AppDefinitionJson.Parse(row.AppliedDefinition).GetAppOrThrow(),
                    _ => app,
                },
                LastScalingAt = row.LastScalingAt,
                LastTaskFailure = row.LastTaskFailure,
            };
            state.Backoff = LaunchBackoff.For(app) with
            {
                Failures = row.BackoffFailures,
                CurrentDelay = TimeSpan.FromSeconds(row.BackoffDelaySeconds),
                LastFailureAt = row.BackoffLastFailureAt,
            };
            _apps[state.Id] = state;
            _releaseCandidates.Add(state.Id);
            Bump(app.Version);
        }

        foreach (var row in stored.Instances)
        {
            var appId = PathId.Parse(row.AppId);
            var instance = new Instance(row.TaskId, appId)
            {
                ConfigVersion = row.ConfigVersion,
                AppVersion = row.AppVersion,
                State = row.State,
                AgentId = row.AgentId,
                Agent = row.Hostname is null ? null : new AgentInfo(row.Hostname, row.Attributes),
                StagedAt = row.StagedAt,
                StartedAt = row.StartedAt,
                Healthy = row.Healthy,
                ConsecutiveHealthFailures = row.ConsecutiveHealthFailures,
                Decommissioned = row.Decommissioned,
                Ports = row.Ports ?? [],
            };
            _tasks[instance.TaskId] = instance;
            if (_apps.TryGetValue(appId, out var state))
            {
                state.Instances[instance.TaskId] = instance;
                if (instance.IsScheduled)
                {
                    state.WaitingSince ??= _time.GetUtcNow();
                    _waiting.Add(appId);
                }
            }
        }

        foreach (var row in stored.Deployments)
        {
            var original = row.Original.Select(FromElement).ToDictionary(a => a.PathId.Canonicalize());
            var target = row.Target.Select(FromElement).ToDictionary(a => a.PathId.Canonicalize());
            var toKill = row.ToKill?.ToDictionary(kv => PathId.Parse(kv.Key), kv => (IReadOnlyList<string>)kv.Value);
            var plan = DeploymentPlanner.Plan(original, target, () => row.Id, row.Version, toKill);
            AddDeployment(new RunningDeployment(plan, row.StartedAt)
            {
                CurrentStep = Math.Min(row.CurrentStep, plan.Steps.Count),
                LastProgressAt = row.LastProgressAt,
                RollbackOnFailure = row.RollbackOnFailure,
                Seq = row.Seq,
                ToKill = toKill,
                ConfigVersions = row.ConfigVersions?.ToDictionary(kv => PathId.Parse(kv.Key), kv => kv.Value),
                OriginalConfigVersions = row.OriginalConfigVersions?.ToDictionary(kv => PathId.Parse(kv.Key), kv => kv.Value) ?? [],
            });
            _deploymentSeq = Math.Max(_deploymentSeq, row.Seq);
            Bump(row.Version);
        }
    }

    private void Bump(DateTimeOffset? version)
    {
        if (version is { } v && v > _lastVersion)
        {
            _lastVersion = v;
        }
    }
}
