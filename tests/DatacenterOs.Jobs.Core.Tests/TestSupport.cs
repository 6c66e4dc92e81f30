using System.Globalization;
using DatacenterOs.Testing;

namespace DatacenterOs.Jobs.Core.Tests;

internal static class T
{
    public static DateTimeOffset At(string iso) => DateTimeOffset.Parse(iso, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);

    public static TimeZoneInfo Zone(string id) => TimeZoneInfo.FindSystemTimeZoneById(id);

    public static JobDefinition Scheduled(string name, string schedule, string timeZone = "") =>
        new() { Name = name, Command = "echo " + name, Schedule = schedule, ScheduleTimeZone = timeZone };

    public static JobDefinition Dependent(string name, params string[] parents) =>
        new() { Name = name, Command = "echo " + name, Parents = parents.ToValueArray() };
}

/// <summary>
/// A minimal in-memory shell around <see cref="JobTrigger.Due(JobTriggerInput)"/>: persists plans, launches runs that
/// finish after <see cref="Duration"/> with the exit code <see cref="ExitCode"/> chooses, and advances a
/// <see cref="FakeTimeProvider"/> from event to event. No sleeping, no wall clock.
/// </summary>
internal sealed class SimulatedShell
{
    private readonly List<(string RunId, DateTimeOffset At)> finishing = [];

    public SimulatedShell(DateTimeOffset start, params JobDefinition[] jobs)
    {
        Clock = new FakeTimeProvider(start);
        Graph = JobGraph.Create(jobs.Select(j => JobNormalizer.Normalize(j, start)));
    }

    public FakeTimeProvider Clock { get; }

    public JobGraph Graph { get; set; }

    public Dictionary<string, JobRun> Runs { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, JobCursor> Cursors { get; } = new(StringComparer.Ordinal);

    public DateTimeOffset? LastEvaluated { get; private set; }

    public JobTriggerOptions Options { get; set; } = JobTriggerOptions.Default;

    public List<JobPlan> Plans { get; } = [];

    public List<string> Launched { get; } = [];

    public Func<JobRun, TimeSpan> Duration { get; set; } = _ => TimeSpan.FromSeconds(1);

    public Func<JobRun, int> ExitCode { get; set; } = _ => 0;

    public DateTimeOffset Now => Clock.GetUtcNow();

    public JobTriggerInput Input() => new()
    {
        Graph = Graph,
        Runs = Runs.Values.ToList(),
        Cursors = new Dictionary<string, JobCursor>(Cursors),
        LastEvaluated = LastEvaluated,
        Now = Now,
        Options = Options,
    };

    public JobPlan Evaluate()
    {
        var plan = JobTrigger.Due(Input());
        Plans.Add(plan);
        foreach (var run in plan.NewRuns.Concat(plan.UpdatedRuns))
        {
            Runs[run.RunId] = run;
        }

        foreach (var (name, cursor) in plan.CursorUpdates)
        {
            Cursors[name] = cursor;
        }

        foreach (var name in plan.CursorRemovals)
        {
            Cursors.Remove(name);
        }

        LastEvaluated = plan.EvaluatedAt;
        foreach (var kill in plan.Kill)
        {
            Runs[kill.Run.RunId] = Runs[kill.Run.RunId].Killed(Now, kill.Reason);
            finishing.RemoveAll(f => f.RunId == kill.Run.RunId);
        }

        foreach (var run in plan.Start)
        {
            Assert.Equal(JobRunState.Pending, Runs[run.RunId].State);
            var started = Runs[run.RunId].Started(Now, "task-" + run.RunId, "agent-1");
            Runs[run.RunId] = started;
            Launched.Add(run.RunId);
            finishing.Add((run.RunId, Now + Duration(started)));
        }

        return plan;
    }

    public void Add(JobRun run) => Runs[run.RunId] = run;

    /// <summary>Evaluates, then jumps from event to event (wake-ups and run completions) while they are before <paramref name="end"/>.</summary>
    public void RunUntil(DateTimeOffset end)
    {
        var plan = Evaluate();
        while (true)
        {
            var next = finishing.Select(f => (DateTimeOffset?)f.At).Append(plan.NextWakeUp).Where(t => t is not null).Min();
            if (next is not { } at || at >= end)
            {
                return;
            }

            if (at > Now)
            {
                Clock.Advance(at - Now);
            }

            foreach (var done in finishing.Where(f => f.At <= Now).ToList())
            {
                finishing.Remove(done);
                var run = Runs[done.RunId];
                Runs[done.RunId] = run.Finished(Now, ExitCode(run));
            }

            plan = Evaluate();
        }
    }

    public IReadOnlyList<JobRun> RunsOf(string job) =>
        Runs.Values.Where(r => r.JobName == job).OrderBy(r => r.ScheduledFor).ThenBy(r => r.Attempt).ToList();

    public int Count(string job, JobRunState state) => Runs.Values.Count(r => r.JobName == job && r.State == state);
}
