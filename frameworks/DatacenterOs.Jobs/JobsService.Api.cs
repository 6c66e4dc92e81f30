using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using DatacenterOs.Jobs.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace DatacenterOs.Jobs;

public sealed partial class JobsService
{
    /// <summary>
    /// Maps Chronos's API under <c>/v1/scheduler</c> (Chronos 3) and <c>/scheduler</c> (Chronos 2 alias):
    /// <list type="bullet">
    /// <item><c>GET jobs</c>: 200, JSON array of jobs in Chronos's shape.</item>
    /// <item><c>POST iso8601</c> (scheduled job) and <c>POST dependency</c> (dependent job): upsert, 204. Invalid
    /// input: 400 <c>{"message":"Job is not valid","errors":[{"field":…,"message":…}]}</c> naming the field (an
    /// unknown parent, the path of a cycle, both schedule and parents, a bad schedule or time zone); unreadable JSON:
    /// 400 <c>{"message":…,"status":"Bad Request"}</c>. Nothing is stored in either case.</item>
    /// <item><c>GET job/{name}</c>: 200 the job; <c>PUT job/{name}</c>: run now (optional <c>arguments</c> in the
    /// query or the body as a string or array), 204; <c>DELETE job/{name}</c>: delete (children re-parented as Chronos
    /// does, running tasks killed), 204.</item>
    /// <item><c>PUT job/success/{name}</c>: mark successful (children run), 200 text.</item>
    /// <item><c>DELETE task/kill/{name}</c>: kill the job's running and pending runs, 204.</item>
    /// <item><c>GET jobs/search?name=&amp;command=&amp;any=&amp;limit=&amp;offset=</c>: case-insensitive "contains",
    /// limit 10 by default, 200 array.</item>
    /// <item><c>GET jobs/summary</c>: 200 <c>{"jobs":[{name,status,state,schedule,parents,disabled}]}</c>.</item>
    /// <item><c>GET graph/dot</c>: the DAG in Graphviz DOT (Chronos format), <c>text/vnd.graphviz</c> when accepted,
    /// else <c>text/plain</c>.</item>
    /// <item><c>GET job/stat/{name}</c>: run durations of finished runs in milliseconds
    /// (<c>{"histogram":{75thPercentile,95thPercentile,98thPercentile,99thPercentile,median,mean,count},"taskStatHistory":[…]}</c>).</item>
    /// <item><c>GET job/{name}/runs?limit=</c>: the run history, newest first (default 100 rows).</item>
    /// </list>
    /// Unknown jobs: 404 <c>{"message":"Job 'x' does not exist"}</c>.
    /// </summary>
    public void MapJobsEndpoints(IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        foreach (var prefix in new[] { "/v1/scheduler", "/scheduler" })
        {
            endpoints.MapGet(prefix + "/jobs", (RequestDelegate)ListJobsAsync);
            endpoints.MapPost(prefix + "/iso8601", (RequestDelegate)(ctx => UpsertAsync(ctx, dependent: false)));
            endpoints.MapPost(prefix + "/dependency", (RequestDelegate)(ctx => UpsertAsync(ctx, dependent: true)));
            endpoints.MapGet(prefix + "/jobs/search", (RequestDelegate)SearchAsync);
            endpoints.MapGet(prefix + "/jobs/summary", (RequestDelegate)SummaryAsync);
            endpoints.MapGet(prefix + "/graph/dot", (RequestDelegate)DotAsync);
            endpoints.MapGet(prefix + "/job/stat/{name}", (RequestDelegate)StatAsync);
            endpoints.MapPut(prefix + "/job/success/{name}", (RequestDelegate)MarkSuccessAsync);
            endpoints.MapDelete(prefix + "/task/kill/{name}", (RequestDelegate)KillTasksAsync);
            endpoints.MapGet(prefix + "/job/{name}/runs", (RequestDelegate)RunsAsync);
            endpoints.MapGet(prefix + "/job/{name}", (RequestDelegate)GetJobAsync);
            endpoints.MapPut(prefix + "/job/{name}", (RequestDelegate)RunNowAsync);
            endpoints.MapDelete(prefix + "/job/{name}", (RequestDelegate)DeleteJobAsync);
        }
    }

    private sealed record ApiResult(int Status, string Body, string ContentType = "application/json; charset=utf-8");

    private static readonly ApiResult NoContent = new(204, string.Empty);

    private static ApiResult NotFound(string name) =>
        new(404, new JsonObject { ["message"] = $"Job '{name}' does not exist" }.ToJsonString(JobsJson.Options));

    private static ApiResult BadRequest(string field, string message) =>
        new(400, new JobValidationErrorsBuilder().Add(field, message).ToJson());

    // ---- Changes ------------------------------------------------------------------------------------------------------

    private async Task UpsertAsync(HttpContext ctx, bool dependent)
    {
        var body = await ReadBodyAsync(ctx).ConfigureAwait(false);
        var parsed = JobJson.Parse(body);
        if (parsed.Value is not { } raw)
        {
            await WriteAsync(ctx, new ApiResult(400, parsed.Error!.ToChronosJson())).ConfigureAwait(false);
            return;
        }

        var result = await WithGateAsync(() => Upsert(raw, dependent)).ConfigureAwait(false);
        await WriteAsync(ctx, result).ConfigureAwait(false);
    }

    private ApiResult Upsert(JobDefinition raw, bool dependent)
    {
        if (dependent && raw.Parents is null)
        {
            return BadRequest(JobFields.Parents, "A dependent job needs parents (POST scheduled jobs to /v1/scheduler/iso8601)");
        }

        if (!dependent && raw.Parents is not null && raw.Schedule is null)
        {
            return BadRequest(JobFields.Parents, "A scheduled job has no parents (POST dependent jobs to /v1/scheduler/dependency)");
        }

        var job = JobNormalizer.Normalize(raw, Now(), _options.Defaults);
        var validation = JobValidator.ValidateUpsert(job, _graph.Jobs);
        if (!validation.IsValid)
        {
            return new ApiResult(400, validation.ToJson());
        }

        if (_graph.Find(job.Name) is { } existing)
        {
            job = KeepStatus(job, existing);
        }

        if (_graph.WithJob(job).Graph is not { } graph)
        {
            return BadRequest(JobFields.Parents, "The job does not fit into the dependency graph");
        }

        _graph = graph;
        _dirtyJobs.Add(job.Name);
        _deletedJobs.Remove(job.Name);
        Evaluate();
        return NoContent;
    }

    /// <summary>An update that sends no status counters keeps the stored ones (a sync script may still set them).</summary>
    private static JobDefinition KeepStatus(JobDefinition job, JobDefinition existing) => job with
    {
        SuccessCount = job.SuccessCount == 0 ? existing.SuccessCount : job.SuccessCount,
        ErrorCount = job.ErrorCount == 0 ? existing.ErrorCount : job.ErrorCount,
        LastSuccess = job.LastSuccess.Length == 0 ? existing.LastSuccess : job.LastSuccess,
        LastError = job.LastError.Length == 0 ? existing.LastError : job.LastError,
        ErrorsSinceLastSuccess = job.ErrorsSinceLastSuccess == 0 ? existing.ErrorsSinceLastSuccess : job.ErrorsSinceLastSuccess,
    };

    private async Task RunNowAsync(HttpContext ctx)
    {
        var name = Name(ctx);
        var body = await ReadBodyAsync(ctx).ConfigureAwait(false);
        var arguments = ctx.Request.Query["arguments"].ToString();
        if (arguments.Length == 0 && body.Length > 0)
        {
            try
            {
                arguments = JsonNode.Parse(body) is JsonObject o ? o["arguments"] switch
                {
                    JsonArray array => string.Join(' ', array.Select(a => a?.GetValue<string>() ?? string.Empty)),
                    JsonValue value => value.GetValue<string>(),
                    _ => string.Empty,
                } : string.Empty;
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
            {
                await WriteAsync(ctx, BadRequest("arguments", "arguments must be a string or an array of strings")).ConfigureAwait(false);
                return;
            }
        }

        var result = await WithGateAsync(() =>
        {
            if (_graph.Find(name) is not { } job)
            {
                return NotFound(name);
            }

            // Run ids derive from the request instant (milliseconds): a second request within the same millisecond gets
            // the next one, but may start at once.
            var now = Now();
            var at = now;
            var run = JobRuns.ManualRun(job, at, arguments);
            while (_runs.ContainsKey(run.RunId))
            {
                at = at.AddMilliseconds(1);
                run = JobRuns.ManualRun(job, at, arguments);
            }

            PutRun(run with { NotBefore = now, CreatedAt = now });
            Evaluate();
            return NoContent;
        }).ConfigureAwait(false);
        await WriteAsync(ctx, result).ConfigureAwait(false);
    }

    private async Task DeleteJobAsync(HttpContext ctx)
    {
        var name = Name(ctx);
        var result = await WithGateAsync(() =>
        {
            if (!_graph.Contains(name))
            {
                return NotFound(name);
            }

            var removal = _graph.WithoutJob(name);
            _graph = removal.Graph;
            _deletedJobs.Add(name);
            _dirtyJobs.Remove(name);
            foreach (var child in removal.UpdatedChildren)
            {
                _dirtyJobs.Add(child.Name);
            }

            Evaluate();
            return NoContent;
        }).ConfigureAwait(false);
        await WriteAsync(ctx, result).ConfigureAwait(false);
    }

    private async Task MarkSuccessAsync(HttpContext ctx)
    {
        var name = Name(ctx);
        var result = await WithGateAsync(() =>
        {
            if (_graph.Find(name) is not { } job)
            {
                return NotFound(name);
            }

            var at = OutcomeInstant();
            var run = JobRuns.MarkSucceeded(job, at);
            while (_runs.ContainsKey(run.RunId))
            {
                at = at.AddMilliseconds(1);
                run = JobRuns.MarkSucceeded(job, at);
            }

            PutRun(run);
            ReplaceJob(JobRuns.ApplyOutcome(job, run));
            Evaluate();
            return new ApiResult(200, $"marked job {name} as successful: true", "text/plain; charset=utf-8");
        }).ConfigureAwait(false);
        await WriteAsync(ctx, result).ConfigureAwait(false);
    }

    private async Task KillTasksAsync(HttpContext ctx)
    {
        var name = Name(ctx);
        var result = await WithGateAsync(() =>
        {
            if (!_graph.Contains(name))
            {
                return NotFound(name);
            }

            foreach (var run in _runs.Values.Where(r => r.JobName == name && !r.IsTerminal).ToList())
            {
                RequestKill(run, "killed by request (DELETE /v1/scheduler/task/kill)");
            }

            return NoContent;
        }).ConfigureAwait(false);
        await WriteAsync(ctx, result).ConfigureAwait(false);
    }

    // ---- Reads --------------------------------------------------------------------------------------------------------

    private async Task ListJobsAsync(HttpContext ctx)
    {
        var json = await WithGateAsync(() => JobJson.SerializeMany(_graph.Jobs), flush: false).ConfigureAwait(false);
        await WriteAsync(ctx, new ApiResult(200, json)).ConfigureAwait(false);
    }

    private async Task GetJobAsync(HttpContext ctx)
    {
        var name = Name(ctx);
        var result = await WithGateAsync(() => _graph.Find(name) is { } job ? new ApiResult(200, JobJson.Serialize(job)) : NotFound(name), flush: false).ConfigureAwait(false);
        await WriteAsync(ctx, result).ConfigureAwait(false);
    }

    private async Task SearchAsync(HttpContext ctx)
    {
        var q = ctx.Request.Query;
        var name = q["name"].ToString();
        var command = q["command"].ToString();
        var any = q["any"].ToString();
        var limit = int.TryParse(q["limit"], NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) && l >= 0 ? l : 10;
        var offset = int.TryParse(q["offset"], NumberStyles.Integer, CultureInfo.InvariantCulture, out var o) && o >= 0 ? o : 0;
        var json = await WithGateAsync(
            () => JobJson.SerializeMany(_graph.Jobs
                .Where(j => name.Length == 0 || j.Name.Contains(name, StringComparison.OrdinalIgnoreCase))
                .Where(j => command.Length == 0 || j.Command.Contains(command, StringComparison.OrdinalIgnoreCase))
                .Where(j => any.Length == 0
                    || j.Name.Contains(any, StringComparison.OrdinalIgnoreCase)
                    || j.Command.Contains(any, StringComparison.OrdinalIgnoreCase)
                    || j.Description.Contains(any, StringComparison.OrdinalIgnoreCase)
                    || j.Owner.Contains(any, StringComparison.OrdinalIgnoreCase))
                .OrderBy(j => j.Name, StringComparer.Ordinal)
                .Skip(offset)
                .Take(limit)),
            flush: false).ConfigureAwait(false);
        await WriteAsync(ctx, new ApiResult(200, json)).ConfigureAwait(false);
    }

    private async Task SummaryAsync(HttpContext ctx)
    {
        var json = await WithGateAsync(
            () =>
            {
                var byJob = _runs.Values.ToLookup(r => r.JobName, StringComparer.Ordinal);
                var jobs = new JsonArray();
                foreach (var job in _graph.Jobs.OrderBy(j => j.Name, StringComparer.Ordinal))
                {
                    var summary = JobSummary.For(job, byJob[job.Name]);
                    var node = JsonSerializer.SerializeToNode(summary, JobsJson.Options)!.AsObject();
                    if (_notes.TryGetValue(job.Name, out var note))
                    {
                        node["note"] = note;
                    }

                    jobs.Add(node);
                }

                return new JsonObject { ["jobs"] = jobs }.ToJsonString(JobsJson.Options);
            },
            flush: false).ConfigureAwait(false);
        await WriteAsync(ctx, new ApiResult(200, json)).ConfigureAwait(false);
    }

    private async Task DotAsync(HttpContext ctx)
    {
        var dot = await WithGateAsync(() => _graph.ToDot(), flush: false).ConfigureAwait(false);
        var graphviz = ctx.Request.Headers.Accept.Any(a => a?.Contains("text/vnd.graphviz", StringComparison.OrdinalIgnoreCase) == true);
        await WriteAsync(ctx, new ApiResult(200, dot, graphviz ? "text/vnd.graphviz; charset=utf-8" : "text/plain; charset=utf-8")).ConfigureAwait(false);
    }

    private async Task RunsAsync(HttpContext ctx)
    {
        var name = Name(ctx);
        var limit = int.TryParse(ctx.Request.Query["limit"], NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) && l > 0 ? l : 100;
        var runs = await HistoryAsync(name, limit).ConfigureAwait(false);
        if (runs is null)
        {
            await WriteAsync(ctx, NotFound(name)).ConfigureAwait(false);
            return;
        }

        var array = new JsonArray();
        foreach (var run in runs)
        {
            array.Add(RunJson(run));
        }

        await WriteAsync(ctx, new ApiResult(200, array.ToJsonString(JobsJson.Options))).ConfigureAwait(false);
    }

    private async Task StatAsync(HttpContext ctx)
    {
        var name = Name(ctx);
        var runs = await HistoryAsync(name, 1000).ConfigureAwait(false);
        if (runs is null)
        {
            await WriteAsync(ctx, NotFound(name)).ConfigureAwait(false);
            return;
        }

        var finished = runs.Where(r => r.Run.StartedAt is not null && r.Run.FinishedAt is not null && r.Run.State is JobRunState.Succeeded or JobRunState.Failed or JobRunState.Killed).ToList();
        var durations = finished.Select(r => (r.Run.FinishedAt!.Value - r.Run.StartedAt!.Value).TotalMilliseconds).Order().ToList();
        var histogram = new JsonObject
        {
            ["75thPercentile"] = Percentile(durations, 0.75),
            ["95thPercentile"] = Percentile(durations, 0.95),
            ["98thPercentile"] = Percentile(durations, 0.98),
            ["99thPercentile"] = Percentile(durations, 0.99),
            ["median"] = Percentile(durations, 0.5),
            ["mean"] = durations.Count == 0 ? 0 : durations.Average(),
            ["count"] = durations.Count,
        };
        var history = new JsonArray();
        foreach (var r in finished)
        {
            history.Add(new JsonObject
            {
                ["taskId"] = r.Run.TaskId,
                ["jobName"] = r.Run.JobName,
                ["slaveId"] = r.Run.AgentId,
                ["startTime"] = ChronosTime(r.Run.StartedAt!.Value.ToUniversalTime()),
                ["endTime"] = ChronosTime(r.Run.FinishedAt!.Value.ToUniversalTime()),
                ["duration"] = (r.Run.FinishedAt!.Value - r.Run.StartedAt!.Value).TotalMilliseconds,
                ["status"] = r.Run.State == JobRunState.Succeeded ? "success" : "failure",
                ["numElementsProcessed"] = 0,
            });
        }

        await WriteAsync(ctx, new ApiResult(200, new JsonObject { ["histogram"] = histogram, ["taskStatHistory"] = history }.ToJsonString(JobsJson.Options))).ConfigureAwait(false);
    }

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];

    /// <summary>The job's runs, newest first (from the store when there is one, else from memory), or null for an unknown job.</summary>
    private async Task<List<StoredRun>?> HistoryAsync(string name, int limit)
    {
        var (known, memory) = await WithGateAsync(
            () => (_graph.Contains(name), _runs.Values
                .Where(r => r.JobName == name)
                .OrderByDescending(r => r.CreatedAt)
                .ThenByDescending(r => r.RunId, StringComparer.Ordinal)
                .Take(limit)
                .Select(r => new StoredRun(r, _runningAt.TryGetValue(r.RunId, out var at) ? at : null, _stdout.GetValueOrDefault(r.RunId)))
                .ToList()),
            flush: false).ConfigureAwait(false);
        if (!known)
        {
            return null;
        }

        // The store is written under the lock before it is released, so it has everything memory has.
        return _store is null ? memory : await _store.ListRunsAsync(name, limit, CancellationToken.None).ConfigureAwait(false);
    }

    private static JsonObject RunJson(StoredRun stored)
    {
        var json = JsonSerializer.SerializeToNode(stored.Run, JobsJson.Options)!.AsObject();
        if (stored.RunningAt is { } at)
        {
            json["runningAt"] = JsonSerializer.SerializeToNode(at, JobsJson.Options);
        }

        if (stored.Stdout is { } stdout)
        {
            json["stdout"] = stdout;
        }

        return json;
    }

    // ---- Plumbing -----------------------------------------------------------------------------------------------------

    /// <summary>Chronos's instant format: ISO 8601 UTC with milliseconds, <c>2026-01-01T00:00:00.000Z</c>.</summary>
    private static string ChronosTime(DateTimeOffset instant) =>
        instant.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static string Name(HttpContext ctx) => (string?)ctx.Request.RouteValues["name"] ?? string.Empty;

    private static async Task<byte[]> ReadBodyAsync(HttpContext ctx)
    {
        using var buffer = new MemoryStream();
        await ctx.Request.Body.CopyToAsync(buffer, ctx.RequestAborted).ConfigureAwait(false);
        return buffer.ToArray();
    }

    private static async Task WriteAsync(HttpContext ctx, ApiResult result)
    {
        ctx.Response.StatusCode = result.Status;
        if (result.Status == 204)
        {
            return;
        }

        ctx.Response.ContentType = result.ContentType;
        await ctx.Response.WriteAsync(result.Body, ctx.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>Builds the validation error body (<see cref="JobValidationResult.ToJson"/>'s shape) for checks outside the validator.</summary>
    private sealed class JobValidationErrorsBuilder
    {
        private readonly JsonArray _errors = [];

        public JobValidationErrorsBuilder Add(string field, string message)
        {
            _errors.Add(new JsonObject { ["field"] = field, ["message"] = message });
            return this;
        }

        public string ToJson() => new JsonObject { ["message"] = JobValidationResult.InvalidJobMessage, ["errors"] = _errors }.ToJsonString(JobsJson.Options);
    }
}
