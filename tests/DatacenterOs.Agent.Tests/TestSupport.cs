using DatacenterOs.Kernel.Contracts;

namespace DatacenterOs.Agent.Tests;

/// <summary>A temporary agent work directory; on dispose kills every process group its checkpoints name, then deletes it.</summary>
internal sealed class TempWorkDir : IDisposable
{
    public TempWorkDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "dcos-agent-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public AgentOptions Options(TimeSpan? grace = null) => new()
    {
        WorkDir = Path,
        Hostname = "agent-host.test",
        MemoryCgroupRoot = null,
        ServeHttp = false,
        DefaultKillGrace = grace ?? TimeSpan.FromSeconds(3),
    };

    public void Dispose()
    {
        KillAll();
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    public void KillAll()
    {
        var meta = System.IO.Path.Combine(Path, "meta");
        if (!Directory.Exists(meta))
        {
            return;
        }

        foreach (var file in Directory.EnumerateFiles(meta, "task.json", SearchOption.AllDirectories))
        {
            try
            {
                var checkpoint = MesosJson.Deserialize<TaskCheckpoint>(File.ReadAllBytes(file));
                if (ProcFs.LiveProcessesInGroup(checkpoint.ProcessGroup).Count > 0)
                {
                    Native.KillGroup(checkpoint.ProcessGroup, Native.SigKill);
                }
            }
            catch (IOException)
            {
            }
        }
    }
}

internal static class Tasks
{
    public static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);

    public static IdDto Framework { get; } = new("fw-1");

    public static TaskInfoDto Shell(string id, string command, string? ports = null, long? graceNanos = null) => new()
    {
        Name = id,
        TaskId = new IdDto(id),
        AgentId = new IdDto("agent-1"),
        Command = new CommandDto { Value = command },
        Resources = ResourceConversions.ToDtos(DatacenterOs.Kernel.Resources.Parse("cpus:0.1;mem:32" + (ports is null ? "" : ";ports:" + ports))),
        KillPolicy = graceNanos is null ? null : new KillPolicyDto(new NanosDto(graceNanos.Value)),
    };

    /// <summary>Polls <paramref name="condition"/> (real time) until true or the timeout; for waiting on real processes only.</summary>
    public static async Task<bool> EventuallyAsync(Func<bool> condition, TimeSpan? timeout = null)
    {
        var started = TimeProvider.System.GetTimestamp();
        while (TimeProvider.System.GetElapsedTime(started) < (timeout ?? Generous))
        {
            if (condition())
            {
                return true;
            }

            await Task.Delay(50);
        }

        return condition();
    }
}
