using System.Globalization;
using DatacenterOs.Kernel;
using DatacenterOs.Kernel.Allocation;
using DatacenterOs.Kernel.Contracts;
using Microsoft.Extensions.Logging;

namespace DatacenterOs.Master;

/// <content>Scheduler API: SUBSCRIBE and the calls on a subscription (Mesos <c>scheduler.proto</c>).</content>
internal sealed partial class MasterCore
{
    /// <summary>SUBSCRIBE: registers or re-subscribes a framework and returns its new event stream.</summary>
    public async Task<(CallResult Result, EventSink? Sink, string? FrameworkId)> SubscribeAsync(SchedulerCall call, CancellationToken cancellationToken)
    {
        var info = call.Subscribe?.FrameworkInfo;
        if (info is null)
        {
            return (CallResult.BadRequest("SUBSCRIBE needs 'subscribe.framework_info'"), null, null);
        }

        foreach (var role in info.EffectiveRoles())
        {
            if (RolePath.Validate(role) is { } roleError)
            {
                return (CallResult.BadRequest($"framework_info.roles: {roleError}"), null, null);
            }
        }

        if (info.FailoverTimeout is < 0 or double.NaN)
        {
            return (CallResult.BadRequest("framework_info.failover_timeout must be a number of seconds >= 0"), null, null);
        }

        var requestedId = call.FrameworkId?.Value ?? info.Id?.Value;
        var now = _time.GetUtcNow();
        FrameworkEntry framework;
        var isNew = false;
        if (!string.IsNullOrEmpty(requestedId))
        {
            if (!_frameworks.TryGetValue(requestedId, out var existing))
            {
                return (CallResult.BadRequest($"framework '{requestedId}' is unknown or was torn down; subscribe without an id to register anew"), null, null);
            }

            framework = existing;
            if (framework.Sink is { } old)
            {
                old.Send(new SchedulerEvent { Type = SchedulerTypes.Error, Error = new ErrorEvent("Framework failed over") });
                old.Close();
            }

            framework.Info = info with { Id = new IdDto(framework.Id) };
            framework.Recovered = false;
            framework.ReregisteredAt = now;
            framework.FailoverTimer?.Dispose();
            framework.FailoverTimer = null;
            Allocator.UpdateFramework(ToAllocatorInfo(framework.Id, framework.Info));
            RescindWhere(o => o.Offer.FrameworkId.Value == framework.Id);
        }
        else
        {
            var seq = await _registry.NextSequenceAsync("framework", cancellationToken).ConfigureAwait(false);
            var id = string.Create(CultureInfo.InvariantCulture, $"{MasterId}-{seq:D4}");
            framework = new FrameworkEntry(id, info with { Id = new IdDto(id) }, now);
            isNew = true;
            _frameworks[id] = framework;
            Allocator.AddFramework(ToAllocatorInfo(id, framework.Info));
        }


        await _registry.SaveFrameworkAsync(framework.Id, framework.Info, framework.RegisteredAt, cancellationToken).ConfigureAwait(false);
        var sink = new EventSink(_newId());
        framework.Sink = sink;
        var fid = new FrameworkId(framework.Id);
        Allocator.SetFrameworkActive(fid, true);
        Allocator.Revive(fid);
        if (call.Subscribe!.SuppressedRoles is { Count: > 0 } suppressed)
        {
            Allocator.Suppress(fid, suppressed.Where(r => framework.Info.EffectiveRoles().Contains(r)));
        }

        sink.Send(new SchedulerEvent
        {
            Type = SchedulerTypes.Subscribed,
            Subscribed = new SubscribedEvent(new IdDto(framework.Id), _options.HeartbeatInterval.TotalSeconds),
        });
        EmitFramework(framework, isNew);
        _log.LogInformation("framework {FrameworkId} ({Name}) subscribed in roles {Roles}", framework.Id, info.Name, string.Join(',', framework.Info.EffectiveRoles()));
        RequestAllocation();
        return (new CallResult(200), sink, framework.Id);
    }

    /// <summary>The subscription stream of <paramref name="frameworkId"/> ended.</summary>
    public void FrameworkDisconnected(string frameworkId, EventSink sink)
    {
        sink.Close();
        if (!_frameworks.TryGetValue(frameworkId, out var framework) || framework.Sink != sink)
        {
            return;
        }

        framework.Sink = null;
        Allocator.SetFrameworkActive(new FrameworkId(frameworkId), false);
        RescindWhere(o => o.Offer.FrameworkId.Value == frameworkId);
        StartFailoverTimer(framework);
        EmitFramework(framework, added: false);
        _log.LogInformation("framework {FrameworkId} disconnected; failover timeout {Timeout} s", frameworkId, framework.Info.FailoverTimeout ?? 0);
    }

    /// <summary>Any call but SUBSCRIBE. Mesos status codes: 202 done, 400 malformed or bad stream id, 403 not subscribed.</summary>
    public async Task<CallResult> HandleCallAsync(SchedulerCall call, string? streamId, CancellationToken cancellationToken)
    {
        var id = call.FrameworkId?.Value;
        if (string.IsNullOrEmpty(id))
        {
            return CallResult.BadRequest($"{call.Type} needs 'framework_id'");
        }

        if (!_frameworks.TryGetValue(id, out var framework))
        {
            return CallResult.BadRequest($"framework '{id}' is unknown");
        }

        if (!framework.Connected)
        {
            return CallResult.Forbidden($"framework '{id}' is not subscribed");
        }

        if (string.IsNullOrEmpty(streamId) || streamId != framework.Sink!.StreamId)
        {
            return CallResult.BadRequest("the Mesos-Stream-Id header is missing or does not match the subscription");
        }

        switch (call.Type)
        {
            case SchedulerTypes.Accept:
                return call.Accept is null ? CallResult.BadRequest("ACCEPT needs 'accept'") : Accept(framework, call.Accept);
            case SchedulerTypes.Decline:
                return call.Decline is null ? CallResult.BadRequest("DECLINE needs 'decline'") : Decline(framework, call.Decline);
            case SchedulerTypes.Revive:
                return WithRoles(framework, call.Revive?.Roles, roles =>
                {
                    Allocator.Revive(new FrameworkId(framework.Id), roles);
                    RequestAllocation();
                });
            case SchedulerTypes.Suppress:
                return WithRoles(framework, call.Suppress?.Roles, roles => Allocator.Suppress(new FrameworkId(framework.Id), roles));
            case SchedulerTypes.Kill:
                return call.Kill is null ? CallResult.BadRequest("KILL needs 'kill'") : Kill(framework, call.Kill);
            case SchedulerTypes.Acknowledge:
                return call.Acknowledge is null ? CallResult.BadRequest("ACKNOWLEDGE needs 'acknowledge'") : Acknowledge(framework, call.Acknowledge);
            case SchedulerTypes.Reconcile:
                Reconcile(framework, call.Reconcile?.Tasks);
                return CallResult.Accepted;
            case SchedulerTypes.Teardown:
                await RemoveFrameworkAsync(framework).ConfigureAwait(false);
                return CallResult.Accepted;
            default:
                return CallResult.BadRequest($"unsupported call type '{call.Type}'");
        }
    }

    private static CallResult WithRoles(FrameworkEntry framework, List<string>? roles, Action<IEnumerable<string>?> action)
    {
        var subscribed = framework.Info.EffectiveRoles();
        var unknown = roles?.FirstOrDefault(r => !subscribed.Contains(r));
        if (unknown is not null)
        {
            return CallResult.BadRequest($"framework is not subscribed to role '{unknown}'");
        }

        action(roles is { Count: > 0 } ? roles : null);
        return CallResult.Accepted;
    }

    private CallResult Decline(FrameworkEntry framework, DeclineCall decline)
    {
        foreach (var offerId in decline.OfferIds ?? [])
        {
            if (_offers.TryGetValue(offerId.Value, out var offer) && offer.Offer.FrameworkId.Value == framework.Id)
            {
                _offers.Remove(offer.Id);
                Allocator.Decline(offer.Offer, decline.Filters?.RefuseSeconds);
                Metrics.OffersDeclined++;
            }
        }

        return CallResult.Accepted;
    }

    private CallResult Accept(FrameworkEntry framework, AcceptCall accept)
    {
        var offers = new List<OfferEntry>();
        string? invalid = null;
        foreach (var offerId in accept.OfferIds ?? [])
        {
            if (!_offers.TryGetValue(offerId.Value, out var offer) || offer.Offer.FrameworkId.Value != framework.Id)
            {
                invalid ??= $"offer '{offerId.Value}' is no longer valid";
                continue;
            }

            if (offers.Any(o => o.Id == offer.Id))
            {
                invalid ??= $"offer '{offer.Id}' is used twice";
                continue;
            }

            offers.Add(offer);
        }

        if (offers.Count > 0 && offers.Any(o => o.Offer.AgentId != offers[0].Offer.AgentId || o.Offer.Role != offers[0].Offer.Role))
        {
            invalid ??= "offers in one ACCEPT must come from one agent and one role";
        }

        if (offers.Count == 0)
        {
            invalid ??= "ACCEPT names no offer";
        }

        foreach (var offer in offers)
        {
            _offers.Remove(offer.Id);
        }

        var operations = accept.Operations ?? [];
        if (invalid is not null)
        {
            // Invalid offers: every task is LOST (DROPPED for partition-aware), the valid offers' resources return.
            foreach (var offer in offers)
            {
                Allocator.RecoverResources(offer.Offer.FrameworkId, offer.Offer.AgentId, offer.Offer.Role, offer.Offer.Resources);
            }

            foreach (var task in operations.Where(o => o.Launch is not null).SelectMany(o => o.Launch!.TaskInfos ?? []))
            {
                SendMasterUpdate(framework, task.TaskId.Value, task.AgentId?.Value, framework.PartitionAware ? TaskStates.Dropped : TaskStates.Lost, "REASON_INVALID_OFFERS", invalid);
            }

            return CallResult.Accepted;
        }

        var agentId = offers[0].Offer.AgentId;
        var role = offers[0].Offer.Role;
        var fid = new FrameworkId(framework.Id);
        var pool = offers.Aggregate(Resources.Empty, (acc, o) => acc + o.Offer.Resources);
        var launched = Resources.Empty;
        foreach (var operation in operations)
        {
            switch (operation.Type)
            {
                case SchedulerTypes.Launch:
                    foreach (var task in operation.Launch?.TaskInfos ?? [])
                    {
                        var error = ValidateTask(framework, task, agentId.Value, pool, out var taskResources);
                        if (error is not null)
                        {
                            SendMasterUpdate(framework, task.TaskId?.Value ?? "", agentId.Value, TaskStates.Error, "REASON_TASK_INVALID", error);
                            continue;
                        }

                        pool -= taskResources;
                        launched += taskResources;
                        Launch(framework, agentId.Value, role, task, taskResources);
                    }

                    break;
                case SchedulerTypes.Reserve or SchedulerTypes.Unreserve:
                    var body = operation.Type == SchedulerTypes.Reserve ? operation.Reserve : operation.Unreserve;
                    ApplyReservation(framework, fid, agentId, role, operation.Type, body, ref pool);
                    break;
                default:
                    _log.LogWarning("framework {FrameworkId}: unsupported operation '{Type}' ignored", framework.Id, operation.Type);
                    break;
            }
        }

        // What was offered and not used goes back, with the ACCEPT's filter (default 5 s).
        if (!pool.IsEmpty)
        {
            var refuse = accept.Filters?.RefuseSeconds;
            var toRecover = Allocator.HeldBy(fid, agentId, role).Contains(pool) ? pool : Resources.Empty;
            if (!toRecover.IsEmpty)
            {
                Allocator.RecoverResources(fid, agentId, role, toRecover,
                    refuse is null or < 0 ? TimeSpan.FromSeconds(5) : TimeSpan.FromSeconds(Math.Min(refuse.Value, 31_536_000)));
            }
        }

        return CallResult.Accepted;
    }

    private void ApplyReservation(FrameworkEntry framework, FrameworkId fid, AgentId agentId, string role, string type, ReserveDto? body, ref Resources pool)
    {
        try
        {
            var resources = ResourceConversions.ToResources(body?.Resources);
            if (type == SchedulerTypes.Reserve)
            {
                if (!pool.Contains(resources.ToUnreserved()) || resources.Any(r => r.Role != role))
                {
                    throw new InvalidOperationException($"RESERVE of '{resources}' must use offered unreserved resources and reserve them to the offer's role '{role}'");
                }

                Allocator.Reserve(agentId, resources, fid);
                pool = pool - resources.ToUnreserved() + resources;
                _agents[agentId.Value].DynamicReserved += resources;
            }
            else
            {
                if (!pool.Contains(resources))
                {
                    throw new InvalidOperationException($"UNRESERVE of '{resources}' must use offered reserved resources");
                }

                Allocator.Unreserve(agentId, resources, fid);
                pool = pool - resources + resources.ToUnreserved();
                _agents[agentId.Value].DynamicReserved -= resources;
            }

            PersistAgent(_agents[agentId.Value]);
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException or ArgumentException)
        {
            _log.LogWarning("framework {FrameworkId}: {Type} refused: {Message}", framework.Id, type, e.Message);
        }
    }

    private string? ValidateTask(FrameworkEntry framework, TaskInfoDto task, string agentId, Resources pool, out Resources resources)
    {
        resources = Resources.Empty;
        var taskId = task.TaskId?.Value;
        if (string.IsNullOrWhiteSpace(taskId) || taskId.Length > 255 || taskId.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c == '/'))
        {
            return "task_id must be 1-255 characters without whitespace, control characters or '/'";
        }

        if (_tasks.TryGetValue((framework.Id, taskId), out var existing) && !TaskStates.IsTerminal(existing.Status.State))
        {
            return $"task '{taskId}' already exists";
        }

        if (task.AgentId is null || task.AgentId.Value != agentId)
        {
            return $"task agent_id must be the offer's agent '{agentId}'";
        }

        if (task.Command is null || (string.IsNullOrWhiteSpace(task.Command.Value) && task.Command.Arguments is not { Count: > 0 }))
        {
            return "task needs 'command.value'";
        }

        try
        {
            resources = ResourceConversions.ToResources(task.Resources);
        }
        catch (FormatException e)
        {
            return "task resources: " + e.Message;
        }

        if (resources.IsEmpty)
        {
            return "task needs resources";
        }

        if (!pool.Contains(resources))
        {
            return $"task resources '{resources}' are not within the offered resources '{pool}'";
        }

        return null;
    }

    private void Launch(FrameworkEntry framework, string agentId, string role, TaskInfoDto task, Resources resources)
    {
        var agent = _agents[agentId];
        var status = new TaskStatusDto
        {
            TaskId = task.TaskId,
            State = TaskStates.Staging,
            AgentId = new IdDto(agentId),
            Source = "SOURCE_MASTER",
            Timestamp = Seconds(_time.GetUtcNow()),
        };
        var entry = new TaskEntry(framework.Id, agentId, role, task, resources, status);
        _tasks[(framework.Id, task.TaskId.Value)] = entry;
        Metrics.TasksLaunched++;
        EmitTaskAdded(entry);
        if (agent.Sink is { } sink)
        {
            sink.Send(new AgentEvent { Type = AgentTypes.Launch, Launch = new AgentLaunchEvent(new IdDto(framework.Id), role, task) });
        }
        else
        {
            ReleaseTask(entry);
            entry.Status = status with { State = framework.PartitionAware ? TaskStates.Dropped : TaskStates.Lost, Message = "agent is disconnected" };
            SendMasterUpdate(framework, entry.TaskId, agentId, entry.Status.State, "REASON_AGENT_DISCONNECTED", "agent is disconnected");
        }
    }

    private CallResult Kill(FrameworkEntry framework, KillCall kill)
    {
        if (!_tasks.TryGetValue((framework.Id, kill.TaskId.Value), out var task) || TaskStates.IsTerminal(task.Status.State))
        {
            SendMasterUpdate(framework, kill.TaskId.Value, kill.AgentId?.Value, TaskStates.Lost, "REASON_RECONCILIATION", "unknown task");
            return CallResult.Accepted;
        }

        if (_agents.TryGetValue(task.AgentId, out var agent) && agent.Sink is { } sink)
        {
            sink.Send(new AgentEvent { Type = AgentTypes.Kill, Kill = new AgentKillEvent(new IdDto(framework.Id), kill.TaskId, kill.KillPolicy ?? task.Info.KillPolicy) });
        }

        return CallResult.Accepted;
    }

    private CallResult Acknowledge(FrameworkEntry framework, AcknowledgeCall ack)
    {
        if (_agents.TryGetValue(ack.AgentId.Value, out var agent) && agent.Sink is { } sink)
        {
            sink.Send(new AgentEvent { Type = AgentTypes.Acknowledge, Acknowledge = new AgentAcknowledgeEvent(new IdDto(framework.Id), ack.TaskId, ack.Uuid) });
        }

        if (_tasks.TryGetValue((framework.Id, ack.TaskId.Value), out var task) && task.Status.Uuid == ack.Uuid && TaskStates.IsTerminal(task.Status.State))
        {
            _tasks.Remove((framework.Id, ack.TaskId.Value));
            _completedTasks.AddFirst(task);
            if (_completedTasks.Count > 1000)
            {
                _completedTasks.RemoveLast();
            }
        }

        return CallResult.Accepted;
    }

    /// <summary>RECONCILE (Mesos <c>docs/reconciliation.md</c>): implicit = all tasks; explicit = the latest known state or GONE/LOST/UNKNOWN.</summary>
    private void Reconcile(FrameworkEntry framework, List<ReconcileTask>? tasks)
    {
        if (tasks is null || tasks.Count == 0)
        {
            foreach (var task in _tasks.Values.Where(t => t.FrameworkId == framework.Id))
            {
                SendReconciliation(framework, task.TaskId, task.AgentId, task.Status.State, task.Status.Message, task.Status.Healthy);
            }

            return;
        }

        foreach (var request in tasks)
        {
            if (_tasks.TryGetValue((framework.Id, request.TaskId.Value), out var task))
            {
                SendReconciliation(framework, task.TaskId, task.AgentId, task.Status.State, task.Status.Message, task.Status.Healthy);
                continue;
            }

            var agentId = request.AgentId?.Value;
            if (agentId is not null && _agents.TryGetValue(agentId, out var agent))
            {
                if (agent.Recovered)
                {
                    continue; // agent not re-registered yet after master failover: no answer (Mesos case 2)
                }

                SendReconciliation(framework, request.TaskId.Value, agentId, framework.PartitionAware ? (agent.Connected ? TaskStates.Gone : TaskStates.Unreachable) : TaskStates.Lost, "task unknown to the agent");
            }
            else if (agentId is null && _agents.Values.Any(a => a.Recovered))
            {
                continue;
            }
            else
            {
                SendReconciliation(framework, request.TaskId.Value, agentId, framework.PartitionAware ? TaskStates.Unknown : TaskStates.Lost, "task unknown");
            }
        }
    }

    /// <summary>A reconciliation answer; carries the task's last known health (Mesos does the same).</summary>
    private void SendReconciliation(FrameworkEntry framework, string taskId, string? agentId, string state, string? message, bool? healthy = null) =>
        SendMasterUpdate(framework, taskId, agentId, state, "REASON_RECONCILIATION", message, healthy);

    /// <summary>A master-generated update: no uuid, so the framework must not acknowledge it.</summary>
    private void SendMasterUpdate(FrameworkEntry framework, string taskId, string? agentId, string state, string reason, string? message, bool? healthy = null)
    {
        framework.Sink?.Send(new SchedulerEvent
        {
            Type = SchedulerTypes.Update,
            Update = new UpdateEvent(new TaskStatusDto
            {
                TaskId = new IdDto(taskId),
                State = state,
                Reason = reason,
                Message = message,
                Source = "SOURCE_MASTER",
                Healthy = healthy,
                AgentId = agentId is null ? null : new IdDto(agentId),
                Timestamp = Seconds(_time.GetUtcNow()),
            }),
        });
    }

    /// <summary>TEARDOWN or failover timeout: kills the framework's tasks and forgets it.</summary>
    private async Task RemoveFrameworkAsync(FrameworkEntry framework)
    {
        framework.FailoverTimer?.Dispose();
        RescindWhere(o => o.Offer.FrameworkId.Value == framework.Id);
        foreach (var agent in _agents.Values)
        {
            agent.Sink?.Send(new AgentEvent { Type = AgentTypes.ShutdownFramework, ShutdownFramework = new IdDto(framework.Id) });
        }

        foreach (var task in _tasks.Values.Where(t => t.FrameworkId == framework.Id).ToList())
        {
            ReleaseTask(task);
            _tasks.Remove((task.FrameworkId, task.TaskId));
        }

        framework.Sink?.Close();
        framework.Sink = null;
        Allocator.RemoveFramework(new FrameworkId(framework.Id));
        _frameworks.Remove(framework.Id);
        EmitFrameworkRemoved(framework);
        await _registry.RemoveFrameworkAsync(framework.Id, CancellationToken.None).ConfigureAwait(false);
        _log.LogInformation("framework {FrameworkId} removed", framework.Id);
    }

    /// <summary>Gives a task's resources back to the allocator once.</summary>
    private void ReleaseTask(TaskEntry task)
    {
        if (task.Released)
        {
            return;
        }

        task.Released = true;
        var fid = new FrameworkId(task.FrameworkId);
        var aid = new AgentId(task.AgentId);
        if (IsKnownFramework(fid) && _agents.TryGetValue(task.AgentId, out var agent) && agent.InAllocator)
        {
            if (Allocator.HeldBy(fid, aid, task.Role).Contains(task.Resources))
            {
                Allocator.RecoverResources(fid, aid, task.Role, task.Resources);
            }
        }
    }

    private bool IsKnownFramework(FrameworkId id) => _frameworks.ContainsKey(id.Value);

    private static FrameworkInfo ToAllocatorInfo(string id, FrameworkInfoDto info)
    {
        var minAllocatable = new Dictionary<string, IReadOnlyList<ResourceQuantities>>(StringComparer.Ordinal);
        foreach (var (role, filters) in info.OfferFilters ?? [])
        {
            if (filters.MinAllocatableResources?.Quantities is { Count: > 0 } alternatives)
            {
                minAllocatable[role] = [.. alternatives.Select(a => ResourceQuantities.Of(a.Quantities.Select(kv => (kv.Key, kv.Value.Value))))];
            }
        }

        return new FrameworkInfo(new FrameworkId(id), info.Name, info.EffectiveRoles()) { MinAllocatableResources = minAllocatable };
    }
}
