using DatacenterOs.Kernel.Allocation;
using DatacenterOs.Kernel.Contracts;

namespace DatacenterOs.Master;

/// <content>Operator API SUBSCRIBE: a stream of state changes after a full snapshot.</content>
internal sealed partial class MasterCore
{
    private readonly List<EventSink> _operatorSinks = [];

    /// <summary>Opens an operator event stream: SUBSCRIBED with the full state first.</summary>
    public EventSink OperatorSubscribe()
    {
        var sink = new EventSink(_newId());
        sink.Send(new OperatorEvent
        {
            Type = OperatorEventTypes.Subscribed,
            Subscribed = new OperatorSubscribedEvent(BuildSnapshot().State, _options.HeartbeatInterval.TotalSeconds),
        });
        _operatorSinks.Add(sink);
        return sink;
    }

    public void OperatorDisconnected(EventSink sink)
    {
        sink.Close();
        _operatorSinks.Remove(sink);
    }

    private void Emit(OperatorEvent evt)
    {
        foreach (var sink in _operatorSinks)
        {
            sink.Send(evt);
        }
    }

    private void EmitTaskAdded(TaskEntry task)
    {
        if (_operatorSinks.Count > 0)
        {
            Emit(new OperatorEvent { Type = OperatorEventTypes.TaskAdded, TaskAdded = new TaskAddedEvent(ToTaskDto(task)) });
        }
    }

    private void EmitTaskUpdated(string frameworkId, TaskStatusDto status)
    {
        if (_operatorSinks.Count > 0)
        {
            Emit(new OperatorEvent { Type = OperatorEventTypes.TaskUpdated, TaskUpdated = new TaskUpdatedEvent(new IdDto(frameworkId), status, status.State) });
        }
    }

    private void EmitAgentAdded(AgentEntry agent)
    {
        if (_operatorSinks.Count > 0)
        {
            var total = Allocator.TotalOf(new AgentId(agent.Id));
            Emit(new OperatorEvent
            {
                Type = OperatorEventTypes.AgentAdded,
                AgentAdded = new AgentAddedEvent(new AgentStateDto { AgentInfo = agent.Info, Active = agent.Connected, RegisteredTime = Nanos(agent.RegisteredAt), TotalResources = ResourceConversions.ToDtos(total) }),
            });
        }
    }

    private void EmitAgentRemoved(string agentId) =>
        Emit(new OperatorEvent { Type = OperatorEventTypes.AgentRemoved, AgentRemoved = new AgentRemovedEvent(new IdDto(agentId)) });

    private void EmitFramework(FrameworkEntry framework, bool added)
    {
        if (_operatorSinks.Count == 0)
        {
            return;
        }

        var body = new FrameworkEventBody(new FrameworkStateDto
        {
            FrameworkInfo = framework.Info,
            Active = framework.Connected,
            Connected = framework.Connected,
            Recovered = framework.Recovered,
            RegisteredTime = Nanos(framework.RegisteredAt),
        });
        Emit(added
            ? new OperatorEvent { Type = OperatorEventTypes.FrameworkAdded, FrameworkAdded = body }
            : new OperatorEvent { Type = OperatorEventTypes.FrameworkUpdated, FrameworkUpdated = body });
    }

    private void EmitFrameworkRemoved(FrameworkEntry framework) =>
        Emit(new OperatorEvent { Type = OperatorEventTypes.FrameworkRemoved, FrameworkRemoved = new FrameworkRemovedEvent(framework.Info) });

    /// <summary>Ends every open stream (framework, agent, operator) so their HTTP responses complete at shutdown.</summary>
    public void CloseAllStreams()
    {
        foreach (var framework in _frameworks.Values)
        {
            framework.Sink?.Close();
        }

        foreach (var agent in _agents.Values)
        {
            agent.Sink?.Close();
        }

        foreach (var sink in _operatorSinks)
        {
            sink.Close();
        }
    }

    private void OperatorHeartbeat() => Emit(new OperatorEvent { Type = OperatorEventTypes.Heartbeat });
}
