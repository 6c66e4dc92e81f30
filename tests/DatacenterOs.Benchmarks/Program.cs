using System.CommandLine;
using DatacenterOs.Benchmarks;

var agents = new Option<int>("--agents") { Description = "Number of agents", DefaultValueFactory = _ => 10_000 };
var frameworks = new Option<int>("--frameworks") { Description = "Number of frameworks", DefaultValueFactory = _ => 1_000 };
var rounds = new Option<int>("--rounds") { Description = "Timed allocation cycles", DefaultValueFactory = _ => 10 };
var seed = new Option<int>("--seed") { Description = "Allocator seed", DefaultValueFactory = _ => 1 };

var declineOffers = new Command("allocator", "Mesos DeclineOffers workload: every offer declined with an infinite filter, one cycle timed per round")
{
    agents, frameworks, rounds, seed,
};
declineOffers.SetAction(r => AllocatorBenchmarks.DeclineOffers(r.GetValue(agents), r.GetValue(frameworks), r.GetValue(rounds), r.GetValue(seed)));

var quotaAgents = new Option<int>("--agents") { Description = "Number of agents", DefaultValueFactory = _ => 3_000 };
var quotaRoles = new Option<int>("--roles") { Description = "Number of roles with quota (5/6 small, 1/6 large)", DefaultValueFactory = _ => 3_000 };
var largeAndSmallQuota = new Command("allocator-quota", "Mesos LargeAndSmallQuota workload: first cycle, then an empty cycle")
{
    quotaAgents, quotaRoles, seed,
};
largeAndSmallQuota.SetAction(r => AllocatorBenchmarks.LargeAndSmallQuota(r.GetValue(quotaAgents), r.GetValue(quotaRoles), r.GetValue(seed)));

var tasks = new Option<int>("--tasks") { Description = "Tasks to launch", DefaultValueFactory = _ => 2_000 };
var batch = new Option<int>("--batch") { Description = "Tasks launched per ACCEPT", DefaultValueFactory = _ => 50 };
var command = new Option<string>("--command") { Description = "Shell command every task runs", DefaultValueFactory = _ => "sleep 30" };
var launch = new Command("launch", "End to end: real master + real agent in process, one framework over HTTP; ACCEPT-to-TASK_RUNNING latency per task vs raw Process.Start")
{
    tasks, batch, command,
};
launch.SetAction((r, ct) => LaunchBenchmark.RunAsync(r.GetValue(tasks), r.GetValue(batch), r.GetValue(command)!, ct));

var appCount = new Option<int>("--apps") { Description = "One-instance apps to create", DefaultValueFactory = _ => 10_000 };
var simulatedAgents = new Option<int>("--agents") { Description = "Simulated agents", DefaultValueFactory = _ => 50 };
var listRounds = new Option<int>("--list-rounds") { Description = "Timed GET /v2/apps requests", DefaultValueFactory = _ => 50 };
var appsCommand = new Command("apps", "Apps (/v2) on a standalone cluster with simulated agents: create rate, GET /v2/apps latency, rolling restart of 100 instances")
{
    appCount, simulatedAgents, listRounds,
};
appsCommand.SetAction((r, ct) => AppsBenchmark.RunAsync(r.GetValue(appCount), r.GetValue(simulatedAgents), r.GetValue(listRounds), ct));

var jobCount = new Option<int>("--jobs") { Description = "Cron jobs scheduled every minute", DefaultValueFactory = _ => 1_000 };
var jobMinutes = new Option<int>("--minutes") { Description = "Minute boundaries measured", DefaultValueFactory = _ => 2 };
var jobAgents = new Option<int>("--agents") { Description = "Simulated agents", DefaultValueFactory = _ => 10 };
var noCron = new Option<bool>("--no-cron") { Description = "Skip the comparison with Debian cron firing the same entries" };
var jobsCommand = new Command("jobs", "Jobs (/v1/scheduler) on a standalone cluster with simulated agents: N jobs every minute, lateness from the scheduled instant to TASK_RUNNING; then Debian cron with the same entries, when installed")
{
    jobCount, jobMinutes, jobAgents, noCron,
};
jobsCommand.SetAction((r, ct) => JobsBenchmark.RunAsync(r.GetValue(jobCount), r.GetValue(jobMinutes), r.GetValue(jobAgents), !r.GetValue(noCron), ct));

var triggerRounds = new Option<int>("--rounds") { Description = "Timed evaluations", DefaultValueFactory = _ => 50 };
var jobsTrigger = new Command("jobs-trigger", "The pure trigger decision (JobTrigger.Due) at a minute boundary for N every-minute cron jobs")
{
    jobCount, triggerRounds,
};
jobsTrigger.SetAction(r => JobTriggerBenchmark.Run(r.GetValue(jobCount), r.GetValue(triggerRounds)));

var dockerTasks = new Option<int>("--tasks") { Description = "Docker tasks to launch (and docker run -d to time)", DefaultValueFactory = _ => 50 };
var dockerBatch = new Option<int>("--batch") { Description = "Tasks launched per ACCEPT (1: one container at a time, like the docker run loop)", DefaultValueFactory = _ => 1 };
var dockerImage = new Option<string>("--image") { Description = "Local image every task runs", DefaultValueFactory = _ => "dcos-test/busybox:1" };
var dockerCommand = new Option<string>("--command") { Description = "Shell command every container runs", DefaultValueFactory = _ => "sleep 60" };
var dockerBench = new Command("docker", "Docker containers: ACCEPT-to-TASK_RUNNING per task (real master + agent in process) vs docker run -d of the same image")
{
    dockerTasks, dockerBatch, dockerImage, dockerCommand,
};
dockerBench.SetAction((r, ct) => DockerBenchmark.RunAsync(r.GetValue(dockerTasks), r.GetValue(dockerBatch), r.GetValue(dockerImage)!, r.GetValue(dockerCommand)!, ct));

var placementAgents = new Option<int>("--agents") { Description = "Simulated agents", DefaultValueFactory = _ => 5_000 };
var placementTasks = new Option<int>("--tasks") { Description = "Tasks to place", DefaultValueFactory = _ => 1_000_000 };
var placementGroup = new Option<int>("--group") { Description = "Tasks per group (Nomad: per job)", DefaultValueFactory = _ => 1_000 };
var placements = new Command("placements", "Nomad C1M's shape: one framework places N tiny tasks on simulated agents through the real offer loop and scheduler API")
{
    placementAgents, placementTasks, placementGroup,
};
placements.SetAction((r, ct) => PlacementsBenchmark.RunAsync(r.GetValue(placementAgents), r.GetValue(placementTasks), r.GetValue(placementGroup), ct));

var multiFramework = new Command("multi-framework", "Mesos MultiFrameworkAllocations: 80 agents, 554 frameworks, 19,500 tasks; allocation rounds and wall time until all launched")
{
    seed,
};
multiFramework.SetAction(r => MultiFrameworkBenchmark.Run(r.GetValue(seed)));

var scaleAgents = new Option<int>("--agents") { Description = "Simulated agents", DefaultValueFactory = _ => 10_000 };
var scaleTasks = new Option<int>("--tasks") { Description = "Tasks launched", DefaultValueFactory = _ => 100_000 };
var masterScale = new Command("master-scale", "A dcosd master process under N simulated agents and M tasks: its RSS, /master/state and GET_STATE latency, allocation run time while launching")
{
    scaleAgents, scaleTasks,
};
masterScale.SetAction((r, ct) => MasterScaleBenchmark.RunScaleAsync(r.GetValue(scaleAgents), r.GetValue(scaleTasks), ct));

var failover = new Command("failover", "Kill -9 a dcosd master holding N agents and M tasks, restart it: time until all agents re-registered and offers flow again")
{
    scaleAgents, scaleTasks,
};
failover.SetAction((r, ct) => MasterScaleBenchmark.RunFailoverAsync(r.GetValue(scaleAgents), r.GetValue(scaleTasks), ct));

var rollingInstances = new Option<int>("--instances") { Description = "Instances of the app restarted", DefaultValueFactory = _ => 100 };
var rollingAgents = new Option<int>("--agents") { Description = "Simulated agents", DefaultValueFactory = _ => 10 };
var rollingRounds = new Option<int>("--rounds") { Description = "Restarts timed (the median is printed)", DefaultValueFactory = _ => 3 };
var appsRolling = new Command("apps-rolling", "Rolling restart of one app's instances with instantly passing health checks (Apps on simulated agents)")
{
    rollingInstances, rollingAgents, rollingRounds,
};
appsRolling.SetAction((r, ct) => AppsRollingBenchmark.RunAsync(r.GetValue(rollingInstances), r.GetValue(rollingAgents), r.GetValue(rollingRounds), ct));

var small = new Option<bool>("--small") { Description = "Reduced sizes (minutes instead of most of an hour)" };
var outFile = new Option<string?>("--out") { Description = "Also write the Markdown table to this file" };
var all = new Command("all", "Every scenario in turn, each in its own process; prints their lines and a Markdown table with the anchors")
{
    small, outFile,
};
all.SetAction((r, ct) => AllBenchmark.RunAsync(r.GetValue(small), r.GetValue(outFile), ct));

var root = new RootCommand("DatacenterOs benchmarks: each prints one line of numbers")
{
    declineOffers, largeAndSmallQuota, launch, appsCommand, jobsCommand, jobsTrigger, dockerBench, placements, multiFramework, masterScale, failover, appsRolling, all,
};
return await root.Parse(args).InvokeAsync();
