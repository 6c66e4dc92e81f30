using System.Diagnostics;
using DatacenterOs.Agent.Docker;
using DatacenterOs.Testing;

namespace DatacenterOs.Docker.Tests;

/// <summary>
/// Whether a Docker daemon answers on <c>/var/run/docker.sock</c>; prepares the test image with
/// <c>eng/setup-docker.sh</c> when it is missing.
/// </summary>
internal static class DockerEnvironment
{
    public const string Image = "dcos-test/busybox:1";

    private static readonly Lazy<string?> Problem = new(FindProblem);

    public static bool UnderCi => Environment.GetEnvironmentVariable("CI") == "true";

    /// <summary>Null when Docker and the test image are usable, else why not.</summary>
    public static string? Unavailable => Problem.Value;

    public static DockerClient Client() => new();

    private static string? FindProblem()
    {
        using var client = new DockerClient();
        if (!client.PingAsync().GetAwaiter().GetResult())
        {
            return "no Docker daemon answers on /var/run/docker.sock (run eng/setup-docker.sh)";
        }

        if (client.InspectImageAsync(Image).GetAwaiter().GetResult() is null)
        {
            var script = Path.Combine(DcosdProcess.RepoRoot(), "eng", "setup-docker.sh");
            using var setup = Process.Start(new ProcessStartInfo("bash", [script]) { RedirectStandardOutput = true, RedirectStandardError = true });
            setup!.WaitForExit(120_000);
            if (client.InspectImageAsync(Image).GetAwaiter().GetResult() is null)
            {
                return $"the test image {Image} is missing and eng/setup-docker.sh did not create it";
            }
        }

        return null;
    }
}

/// <summary>A test that needs Docker: skipped with the reason when Docker is unusable, except under <c>CI=true</c> where it runs (and fails).</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class DockerFactAttribute : FactAttribute
{
    /// <summary>Sets <see cref="FactAttribute.Skip"/> when Docker is unusable off CI.</summary>
    public DockerFactAttribute()
    {
        if (!DockerEnvironment.UnderCi && DockerEnvironment.Unavailable is { } reason)
        {
            Skip = reason;
        }
    }
}
