using System.Diagnostics;
using System.Globalization;
using DatacenterOs.Agent.Docker;
using DatacenterOs.Frameworks.Client;
using DatacenterOs.Kernel.Contracts;

namespace DatacenterOs.Benchmarks;

/// <summary>
/// Docker task launch: the launch benchmark's master, agent and framework in this process, every task a Docker
/// container of a local image (default <c>dcos-test/busybox:1</c>, made by <c>eng/setup-docker.sh</c>); per task the
/// time from its ACCEPT to its TASK_RUNNING. For comparison, <c>docker run -d</c> of the same image, command and
/// limits is timed first, one after the other, with the same count. With <c>--batch 1</c> (the default) every ACCEPT
/// launches one task, so both sides start containers one at a time. Stdout gets exactly one line.
/// </summary>
internal static class DockerBenchmark
{
    private const string TaskResources = "cpus:0.1;mem:32";

    public static async Task<int> RunAsync(int taskCount, int batch, string image, string command, CancellationToken cancellationToken)
    {
        if (taskCount < 1 || batch < 1)
        {
            await Console.Error.WriteLineAsync("docker: --tasks and --batch must be >= 1").ConfigureAwait(false);
            return 2;
        }

        using (var client = new DockerClient())
        {
            if (!await client.PingAsync(cancellationToken).ConfigureAwait(false))
            {
                await Console.Error.WriteLineAsync("docker: no Docker daemon answers on /var/run/docker.sock (run eng/setup-docker.sh)").ConfigureAwait(false);
                return 3;
            }

            if (await client.InspectImageAsync(image, cancellationToken).ConfigureAwait(false) is null)
            {
                await Console.Error.WriteLineAsync($"docker: image {image} is missing (run eng/setup-docker.sh)").ConfigureAwait(false);
                return 3;
            }
        }

        var dockerRun = await MeasureDockerRunAsync(taskCount, image, command, cancellationToken).ConfigureAwait(false);
        if (dockerRun is null)
        {
            return 1;
        }

        var root = Directory.CreateTempSubdirectory("dcos-docker-bench-").FullName;
        try
        {
            LaunchResult? result;
            var container = new ContainerInfoDto { Type = ContainerInfoTypes.Docker, Docker = new DockerInfoDto { Image = image, Network = DockerNetworkModes.Host } };
            await using (var run = new LaunchRun(root, taskCount, batch, command, container, TaskResources))
            {
                try
                {
                    result = await run.ExecuteAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is InvalidOperationException or HttpRequestException or SchedulerException or IOException)
                {
                    await Console.Error.WriteLineAsync("docker: FAILED: " + e.Message).ConfigureAwait(false);
                    result = null;
                }
            }

            if (result is null)
            {
                return 1;
            }

            Array.Sort(dockerRun);
            var overhead = (result.P50Ms / LaunchBenchmark.Percentile(dockerRun, 0.5)) - 1;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"docker tasks={taskCount} our_p50_ms={result.P50Ms:F1} our_p99_ms={result.P99Ms:F1} docker_run_p50_ms={LaunchBenchmark.Percentile(dockerRun, 0.5):F1} docker_run_p99_ms={LaunchBenchmark.Percentile(dockerRun, 0.99):F1} overhead_p50_pct={overhead * 100:F0}"));
            return 0;
        }
        finally
        {
            await RemoveBenchmarkContainersAsync(root).ConfigureAwait(false);
            LaunchBenchmark.TryDeleteDirectory(root);
        }
    }

    /// <summary>Times <c>docker run -d</c> (the CLI, start to exit) <paramref name="count"/> times in a row, then removes the containers.</summary>
    private static async Task<double[]?> MeasureDockerRunAsync(int count, string image, string command, CancellationToken cancellationToken)
    {
        var label = "dcos.benchmark=" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        var times = new double[count];
        try
        {
            for (var i = 0; i < count; i++)
            {
                var info = new ProcessStartInfo("docker") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
                foreach (var arg in new[] { "run", "-d", "--label", label, "--cpus", "0.1", "--cpu-shares", "102", "-m", "32m", "--memory-swap", "32m", "--network", "host", "--entrypoint", "/bin/sh", image, "-c", command })
                {
                    info.ArgumentList.Add(arg);
                }

                var before = Stopwatch.GetTimestamp();
                using var process = Process.Start(info)!;
                var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
                await process.StandardOutput.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
                await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
                times[i] = LaunchBenchmark.Ms(before, Stopwatch.GetTimestamp());
                if (process.ExitCode != 0)
                {
                    await Console.Error.WriteLineAsync("docker: docker run failed: " + (await stderr.ConfigureAwait(false)).Trim()).ConfigureAwait(false);
                    return null;
                }
            }

            return times;
        }
        finally
        {
            using var client = new DockerClient();
            foreach (var c in await client.ListContainersAsync([label], CancellationToken.None).ConfigureAwait(false))
            {
                await client.RemoveContainerAsync(c.Id, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    private static async Task RemoveBenchmarkContainersAsync(string root)
    {
        try
        {
            using var client = new DockerClient();
            var workDir = Path.GetFullPath(Path.Combine(root, "agent"));
            foreach (var c in await client.ListContainersAsync([DockerContainerizer.LabelWorkDir + "=" + workDir], CancellationToken.None).ConfigureAwait(false))
            {
                await client.RemoveContainerAsync(c.Id, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (DockerException e)
        {
            await Console.Error.WriteLineAsync("docker: could not remove the benchmark's containers: " + e.Message).ConfigureAwait(false);
        }
    }
}
