namespace DatacenterOs.Security;

/// <summary>Settings of <see cref="SecurityWiring"/>.</summary>
public sealed record SecurityOptions
{
    /// <summary>Principals (authentication and authorization on); null turns both off (standalone on loopback only).</summary>
    public AuthStore? Auth { get; init; }

    /// <summary>Owner of a stored job by name, or null when there is no such job (for <c>jobs:owner:</c> permissions).</summary>
    public Func<string, string?>? JobOwner { get; init; }

    /// <summary>Sustained API writes per second per principal (token bucket refill; 0 = no limit). Default 50.</summary>
    public int WritesPerSecond { get; init; } = 50;

    /// <summary>Burst of API writes per principal (token bucket size). Default 200.</summary>
    public int WriteBurst { get; init; } = 200;

    /// <summary>Largest request body of <c>/v2</c>, <c>/v1</c>, <c>/scheduler</c> and dashboard forms, bytes. Default 1 MiB.</summary>
    public long ApiBodyBytes { get; init; } = 1024 * 1024;

    /// <summary>Largest request body of the master's <c>/api/v1</c> calls (scheduler, operator, agent), bytes. Default 8 MiB.</summary>
    public long MasterBodyBytes { get; init; } = 8 * 1024 * 1024;
}
