namespace DatacenterOs.Apps;

/// <summary>Settings of Apps discovery (<c>/v1/discovery</c>, generated load-balancer configuration, state callbacks).</summary>
public sealed record DiscoveryOptions
{
    /// <summary>
    /// Base URL of the discovery API as instances reach it (e.g. <c>http://10.0.0.1:5050/v1/discovery</c>), given to
    /// every instance as <c>DCOS_DISCOVERY_URL</c>; null gives no such variable.
    /// </summary>
    public string? Url { get; init; }

    /// <summary>
    /// Where the generated HAProxy configuration is written (atomically: a temporary file renamed over it) whenever the
    /// live endpoints change; null writes none.
    /// </summary>
    public string? HaproxyConfigPath { get; init; }

    /// <summary>Address the generated frontends bind (<c>0.0.0.0</c>).</summary>
    public string HaproxyBindAddress { get; init; } = "0.0.0.0";

    /// <summary>
    /// Shell command run (<c>/bin/sh -c</c>) after each write, e.g. <c>systemctl reload haproxy</c> or
    /// <c>kill -USR2 $(cat /run/haproxy.pid)</c>; null runs nothing. At most 30 s; failures are reported in
    /// <c>GET /v1/discovery/config</c>.
    /// </summary>
    public string? ReloadCommand { get; init; }

    /// <summary>Timeout of one state callback attempt (2 s).</summary>
    public TimeSpan CallbackTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Retries of a failed state callback (3; exponential from 200 ms).</summary>
    public int CallbackRetries { get; init; } = 3;
}
