using System.Globalization;
using DatacenterOs.Kernel;
using DatacenterOs.Kernel.Allocation;
using DatacenterOs.Kernel.Contracts;
using Microsoft.Extensions.Logging;

namespace DatacenterOs.Master;

/// <content>Agent API: agents subscribe (register or re-register with their tasks) and send status updates.</content>
internal sealed partial class MasterCore
{
    /// <summary>An agent (re)subscribes; returns its command stream.</summary>
    public async Task<(CallResult Result, EventSink? Sink, string? AgentId)> AgentSubscribeAsync(AgentSubscribeCall call, CancellationToken cancellationToken)
    {
        if (_options.AgentSecret is { } secret && !string.Equals(secret, call.Secret, StringComparison.Ordinal))
        {
            return (new CallResult(401, "agent secret missing or wrong"), null, null);
        }

        Resources total;
        try
        {
            total = ResourceConversions.ToResources(call.AgentInfo.Resources);
        }
        catch (FormatException e)
        {
            return (CallResult.BadRequest("agent_info.resources: " + e.Message), null, null);
        }

        if (string.IsNullOrWhiteSpace(call.AgentInfo.Hostname))
        {
            return (CallResult.BadRequest("agent_info.hostname is required"), null, null);
        }

        var now = _time.GetUtcNow();
        var requestedId = call.AgentInfo.Id?.Value;
        AgentEntry agent;
        if (!string.IsNullOrEmpty(requestedId) && _agents.TryGetValue(requestedId, out var existing))
        {
            agent = existing;
            if (agent.Sink is { } old)
            {
                old.Close();
            }

            agent.ReregisterTimer?.Dispose();
            agent.ReregisterTimer = null;
            agent.ReregisteredAt = now;
            agent.Recovered = false;
            if (agent.InAllocator && !agent.Total.Equals(total))
            {
                RemoveAgentFromAllocator(agent);
            }

            agent.Info = call.AgentInfo with { Id = new IdDto(agent.Id) };
            agent.Total = total;
        }
        else
        {
            var id = requestedId;
            if (string.IsNullOrEmpty(id))
            {
                var seq = await _registry.NextSequenceAsync("agent", cancellationToken).ConfigureAwait(false);
                id = string.Create(CultureInfo.InvariantCulture, $"{MasterId}-S{seq}");
            }

            agent = new AgentEntry(id, call.AgentInfo with { Id = new IdDto(id) }, total, now);
            _agents[id] = agent;
        }

        var aid = new AgentId(agent.Id);
        if (!agent.InAllocator)
        {
            Allocator.AddAgent(new AgentInfo(aid, agent.Info.Hostname, total) { Attributes = ResourceConversions.FromAttributes(agent.Info.Attributes) });
            agent.InAllocator = true;
            ApplyDynamicReservations(agent);
        }
        else
        {
            Allocator.SetAgentActive(aid, true);
        }

        AdoptReportedTasks(agent, call.Tasks ?? []);
        await _registry.SaveAgentAsync(agent.Id, agent.Info, agent.RegisteredAt, agent.DynamicReserved.IsEmpty ? null : agent.DynamicReserved.ToString(), cancellationToken).ConfigureAwait(false);
        var sink = new EventSink(_newId());
        agent.Sink = sink;
        EmitAgentAdded(agent);
        sink.Send(new AgentEvent { Type = AgentTypes.Subscribed, Subscribed = new AgentSubscribedEvent(new IdDto(agent.Id), _options.HeartbeatInterval.TotalSeconds) });
        _log.LogInformation("agent {AgentId} ({Hostname}) subscribed with {Resources} and {Tasks} tasks", agent.Id, agent.Info.Hostname, total.ToString(), call.Tasks?.Count ?? 0);
        RequestAllocation();
        return (new CallResult(200), sink, agent.Id);
    }

    /// <summary>Tasks an agent reports on (re)registration: they keep running and their resources are allocated again.</summary>
    private void AdoptReportedTasks(AgentEntry agent, List<AgentTaskDto> reported)
    {
        var aid = new AgentId(agent.Id);
        var reportedKeys = new HashSet<(string, string)>();
        foreach (var report in reported)
        {
            var fid = report.FrameworkId.Value;
            var key = (fid, report.Task.TaskId.Value);
            reportedKeys.Add(key);
            if (_tasks.TryGetValue(key, out var known))
            {
                known.Status = report.Status;
                continue;
            }

            Resources resources;
            try
            {
                resources = ResourceConversions.ToResources(report.Task.Resources);
            }
            catch (FormatException e)
            {
                _log.LogWarning("agent {AgentId} reported task {TaskId} with bad resources: {Message}", agent.Id, report.Task.TaskId.Value, e.Message);
                continue;
            }

            if (!_frameworks.ContainsKey(fid))
            {
                // A framework we have never heard of (registry lost): track it inactive until it subscribes or times out.
                var placeholder = new FrameworkEntry(fid, new FrameworkInfoDto { Name = fid, Roles = [report.Role], Id = new IdDto(fid) }, _time.GetUtcNow()) { Recovered = true };
                _frameworks[fid] = placeholder;
                Allocator.AddFramework(new FrameworkInfo(new FrameworkId(fid), fid, [report.Role]));
                Allocator.SetFrameworkActive(new FrameworkId(fid), false);
                StartFailoverTimer(placeholder);
            }

            var entry = new TaskEntry(fid, agent.Id, report.Role, report.Task, resources, report.Status);
            _tasks[key] = entry;
            EmitTaskAdded(entry);
            if (TaskStates.IsTerminal(report.Status.State))
            {
                entry.Released = true;
                continue;
            }

            try
            {
                Allocator.AddAllocation(new FrameworkId(fid), aid, report.Role, resources);
            }
            catch (InvalidOperationException e)
            {
                _log.LogWarning("agent {AgentId}: task {TaskId} resources do not fit what the agent has free: {Message}", agent.Id, entry.TaskId, e.Message);
                entry.Released = true;
            }
        }

        // Tasks the master launched there that the agent no longer knows: lost on the way.
        foreach (var task in _tasks.Values.Where(t => t.AgentId == agent.Id && !reportedKeys.Contains((t.FrameworkId, t.TaskId)) && !TaskStates.IsTerminal(t.Status.State)).ToList())
        {
            if (task.Status.State == TaskStates.Staging)
            {
                continue; // the LAUNCH may still be in flight on the old stream; the agent will report it
            }

            LoseTask(task, "task unknown to the re-registered agent");
        }
    }

    /// <summary>The agent's stream ended: stop offering it and give it time to come back.</summary>
    public void AgentDisconnected(string agentId, EventSink sink)
    {
        sink.Close();
        if (!_agents.TryGetValue(agentId, out var agent) || agent.Sink != sink)
        {
            return;
        }

        agent.Sink = null;
        if (agent.InAllocator)
        {
            Allocator.SetAgentActive(new AgentId(agentId), false);
        }

        RescindWhere(o => o.Offer.AgentId.Value == agentId);
        StartReregisterTimer(agent);
        _log.LogWarning("agent {AgentId} disconnected; waiting {Timeout} for it to come back", agentId, _options.AgentReregisterTimeout);
    }

    /// <summary>
    /// Applies an agent's batched status updates in order, as <see cref="AgentUpdate"/> does one: all of them, or none
    /// when one lacks its framework id or status (400) or the agent is not subscribed (403).
    /// </summary>
    public CallResult AgentUpdates(string? agentId, IReadOnlyList<AgentUpdateCall> updates)
    {
        ArgumentNullException.ThrowIfNull(updates);
        for (var i = 0; i < updates.Count; i++)
        {
            if (updates[i]?.Status is null || updates[i].FrameworkId is null)
            {
                return CallResult.BadRequest($"UPDATE needs 'update.framework_id' and 'update.status' in 'updates[{i}]'");
            }
        }

        foreach (var update in updates)
        {
            var result = AgentUpdate(agentId, update);
            if (result.Status != 202)
            {
                return result;
            }
        }

        return CallResult.Accepted;
    }

    /// <summary>A status update from an agent: recorded, resources released on terminal states, forwarded to the framework.</summary>
    public CallResult AgentUpdate(string? agentId, AgentUpdateCall? update)
    {
        if (agentId is null || update?.Status is null || update.FrameworkId is null)
        {
            return CallResult.BadRequest("UPDATE needs 'agent_id', 'update.framework_id' and 'update.status'");
        }

        if (!_agents.TryGetValue(agentId, out var agent) || !agent.Connected)
        {
            return CallResult.Forbidden($"agent '{agentId}' is not subscribed");
        }

        Metrics.StatusUpdates++;
        var status = update.Status with { AgentId = new IdDto(agentId) };
        var fid = update.FrameworkId.Value;
        if (_tasks.TryGetValue((fid, status.TaskId.Value), out var task))
        {
            task.Status = status;
            if (TaskStates.IsTerminal(status.State))
            {
                ReleaseTask(task);
                RequestAllocation();
            }
        }

        EmitTaskUpdated(fid, status);

        if (_frameworks.TryGetValue(fid, out var framework))
        {
            framework.Sink?.Send(new SchedulerEvent { Type = SchedulerTypes.Update, Update = new UpdateEvent(status) });
        }
        else if (status.Uuid is { } uuid)
        {
            // The framework is gone: acknowledge for it so the agent stops retrying.
            agent.Sink?.Send(new AgentEvent { Type = AgentTypes.Acknowledge, Acknowledge = new AgentAcknowledgeEvent(update.FrameworkId, status.TaskId, uuid) });
        }

        return CallResult.Accepted;
    }

    private void LoseTask(TaskEntry task, string message)
    {
        ReleaseTask(task);
        var framework = _frameworks.GetValueOrDefault(task.FrameworkId);
        var state = framework?.PartitionAware == true ? TaskStates.Unreachable : TaskStates.Lost;
        task.Status = task.Status with { State = state, Message = message, Uuid = null, Source = "SOURCE_MASTER", Reason = "REASON_AGENT_REMOVED" };
        EmitTaskUpdated(task.FrameworkId, task.Status);
        if (framework is not null)
        {
            SendMasterUpdate(framework, task.TaskId, task.AgentId, state, "REASON_AGENT_REMOVED", message);
        }

        if (TaskStates.IsTerminal(state))
        {
            _tasks.Remove((task.FrameworkId, task.TaskId));
            _completedTasks.AddFirst(task);
        }
    }

    private async Task RemoveAgentAsync(AgentEntry agent, string reason)
    {
        agent.ReregisterTimer?.Dispose();
        RescindWhere(o => o.Offer.AgentId.Value == agent.Id);
        foreach (var task in _tasks.Values.Where(t => t.AgentId == agent.Id).ToList())
        {
            LoseTask(task, reason);
        }

        RemoveAgentFromAllocator(agent);
        _agents.Remove(agent.Id);
        EmitAgentRemoved(agent.Id);
        foreach (var framework in _frameworks.Values)
        {
            framework.Sink?.Send(new SchedulerEvent { Type = SchedulerTypes.Failure, Failure = new FailureEvent(new IdDto(agent.Id), null, null) });
        }

        await _registry.RemoveAgentAsync(agent.Id, CancellationToken.None).ConfigureAwait(false);
    }

    private void RemoveAgentFromAllocator(AgentEntry agent)
    {
        if (!agent.InAllocator)
        {
            return;
        }

        Allocator.RemoveAgent(new AgentId(agent.Id));
        agent.InAllocator = false;
        foreach (var task in _tasks.Values.Where(t => t.AgentId == agent.Id))
        {
            task.Released = true;
        }
    }

    private void PersistAgent(AgentEntry agent)
    {
        var dynamic = agent.DynamicReserved.IsEmpty ? null : agent.DynamicReserved.ToString();
        Actor.Post(() => _registry.SaveAgentAsync(agent.Id, agent.Info, agent.RegisteredAt, dynamic, CancellationToken.None));
    }

    /// <summary>Re-applies persisted dynamic reservations to an agent that (re)joined the allocator.</summary>
    private void ApplyDynamicReservations(AgentEntry agent)
    {
        var aid = new AgentId(agent.Id);
        foreach (var group in agent.DynamicReserved.GroupBy(r => r.Role))
        {
            var reserved = Resources.Of(group);
            try
            {
                Allocator.Reserve(aid, reserved);
            }
            catch (InvalidOperationException e)
            {
                _log.LogWarning("agent {AgentId}: reservation '{Reserved}' no longer fits: {Message}", agent.Id, reserved, e.Message);
                agent.DynamicReserved -= reserved;
            }
        }
    }
}
