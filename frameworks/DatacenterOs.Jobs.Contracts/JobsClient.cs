using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using DatacenterOs.Kernel.Contracts;

namespace DatacenterOs.Jobs.Contracts;

/// <summary>
/// Typed client of the Jobs API (Chronos <c>/v1/scheduler</c>) on a master. Errors: <see cref="ApiException"/> with
/// Chronos's message and each <c>field: message</c>; connection failures as <see cref="HttpRequestException"/>.
/// </summary>
public sealed class JobsClient : HttpApiClient
{
    private const string Prefix = "v1/scheduler/";

    /// <summary>A client for the master at <paramref name="master"/> (e.g. <c>http://127.0.0.1:5050</c>).</summary>
    public JobsClient(HttpClient http, Uri master)
        : base(http, master)
    {
    }

    private static string Job(string name) => Prefix + "job/" + Uri.EscapeDataString(name);

    /// <summary><c>GET jobs</c>: every job.</summary>
    public Task<List<JobDto>> ListJobsAsync(CancellationToken cancellationToken = default) =>
        SendJsonAsync<List<JobDto>>(HttpMethod.Get, Prefix + "jobs", null, ChronosJson.Options, cancellationToken);

    /// <summary><c>GET jobs/summary</c>: status and state of every job.</summary>
    public async Task<List<JobSummaryDto>> SummaryAsync(CancellationToken cancellationToken = default) =>
        (await SendJsonAsync<SummaryList>(HttpMethod.Get, Prefix + "jobs/summary", null, ChronosJson.Options, cancellationToken).ConfigureAwait(false)).Jobs;

    /// <summary><c>GET job/{name}</c>.</summary>
    /// <exception cref="ApiException">404 for an unknown job.</exception>
    public Task<JobDto> GetJobAsync(string name, CancellationToken cancellationToken = default) =>
        SendJsonAsync<JobDto>(HttpMethod.Get, Job(name), null, ChronosJson.Options, cancellationToken);

    /// <summary><c>GET job/{name}</c> as JSON text (every field, for updates that keep them).</summary>
    public async Task<string> GetJobJsonAsync(string name, CancellationToken cancellationToken = default) =>
        (await SendAsync(HttpMethod.Get, Job(name), null, cancellationToken).ConfigureAwait(false)).Body;

    /// <summary>
    /// Creates or replaces a job (JSON text): jobs with <c>parents</c> go to <c>POST dependency</c>, the others to
    /// <c>POST iso8601</c>. Returns the job's name.
    /// </summary>
    /// <exception cref="ApiException">400 with each invalid field (unknown parent, cycle, bad schedule…).</exception>
    public async Task<string> UpsertJobAsync(string definitionJson, CancellationToken cancellationToken = default)
    {
        JsonObject job;
        try
        {
            job = JsonNode.Parse(definitionJson) as JsonObject ?? throw new JsonException("expected a JSON object");
        }
        catch (JsonException e)
        {
            throw new ApiException(0, "invalid JSON: " + e.Message);
        }

        var dependent = job["parents"] is JsonArray { Count: > 0 } && job["schedule"] is null;
        await SendAsync(HttpMethod.Post, Prefix + (dependent ? "dependency" : "iso8601"), definitionJson, cancellationToken).ConfigureAwait(false);
        return (string?)job["name"] ?? "";
    }

    /// <summary>Sets <c>disabled</c> on a job, keeping every other field.</summary>
    public async Task SetDisabledAsync(string name, bool disabled, CancellationToken cancellationToken = default)
    {
        var job = JsonNode.Parse(await GetJobJsonAsync(name, cancellationToken).ConfigureAwait(false))!.AsObject();
        job["disabled"] = disabled;
        await UpsertJobAsync(job.ToJsonString(), cancellationToken).ConfigureAwait(false);
    }

    /// <summary><c>PUT job/{name}</c>: runs the job (and its DAG) now, with optional arguments appended to its command.</summary>
    public async Task RunJobAsync(string name, IReadOnlyList<string>? arguments = null, CancellationToken cancellationToken = default)
    {
        var body = arguments is { Count: > 0 } ? new JsonObject { ["arguments"] = new JsonArray([.. arguments.Select(a => (JsonNode)JsonValue.Create(a))]) }.ToJsonString() : null;
        await SendAsync(HttpMethod.Put, Job(name), body, cancellationToken).ConfigureAwait(false);
    }

    /// <summary><c>DELETE job/{name}</c>: removes the job (children re-parented, running tasks killed).</summary>
    public async Task RemoveJobAsync(string name, CancellationToken cancellationToken = default) =>
        await SendAsync(HttpMethod.Delete, Job(name), null, cancellationToken).ConfigureAwait(false);

    /// <summary><c>DELETE task/kill/{name}</c>: kills the job's running and pending runs.</summary>
    public async Task KillRunsAsync(string name, CancellationToken cancellationToken = default) =>
        await SendAsync(HttpMethod.Delete, Prefix + "task/kill/" + Uri.EscapeDataString(name), null, cancellationToken).ConfigureAwait(false);

    /// <summary><c>GET job/{name}/runs?limit=</c>: run history, newest first.</summary>
    public Task<List<JobRunDto>> GetRunsAsync(string name, int limit = 100, CancellationToken cancellationToken = default) =>
        SendJsonAsync<List<JobRunDto>>(HttpMethod.Get, Job(name) + "/runs?limit=" + limit.ToString(CultureInfo.InvariantCulture), null, ChronosJson.Options, cancellationToken);

    /// <summary><c>GET graph/dot</c>: the dependency graph in Graphviz DOT.</summary>
    public async Task<string> GetDotAsync(CancellationToken cancellationToken = default) =>
        (await SendAsync(HttpMethod.Get, Prefix + "graph/dot", null, cancellationToken).ConfigureAwait(false)).Body;

#pragma warning disable CA1812, CA2227 // instantiated by the serializer
    private sealed class SummaryList
    {
        public List<JobSummaryDto> Jobs { get; set; } = [];
    }
#pragma warning restore CA1812, CA2227
}
