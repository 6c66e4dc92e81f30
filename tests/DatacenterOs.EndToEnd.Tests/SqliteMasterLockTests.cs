using System.Diagnostics;
using System.Globalization;
using DatacenterOs.Testing;

namespace DatacenterOs.EndToEnd.Tests;

/// <summary>SQLite state belongs to one master: a second dcosd on the same work dir is refused with one line.</summary>
public sealed class SqliteMasterLockTests
{
    [Fact]
    public async Task A_second_master_on_the_same_sqlite_work_dir_is_refused_with_one_line()
    {
        var workDir = Directory.CreateTempSubdirectory("dcos-e2e-lock-").FullName;
        try
        {
            await using (var first = new DcosdProcess(workDir, "[33100-33110]"))
            {
                await first.StartAsync();
                var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
                foreach (var arg in new[] { DcosdProcess.DcosdDll(), "master", "--work-dir", workDir, "--listen", "http://127.0.0.1:" + DcosdProcess.FreePort().ToString(CultureInfo.InvariantCulture) })
                {
                    info.ArgumentList.Add(arg);
                }

                using var second = Process.Start(info)!;
                var stderr = second.StandardError.ReadToEndAsync();
                var stdout = second.StandardOutput.ReadToEndAsync();
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
                await second.WaitForExitAsync(timeout.Token);

                Assert.Equal(1, second.ExitCode);
                var lines = (await stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                var line = Assert.Single(lines);
                Assert.StartsWith("dcosd: another dcosd master (pid ", line, StringComparison.Ordinal);
                Assert.Contains("already uses work dir " + workDir, line, StringComparison.Ordinal);
                Assert.Equal("", await stdout);

                // The first one is untouched.
                var (status, _) = await first.SendAsync(HttpMethod.Get, "/v2/apps");
                Assert.Equal(200, status);
                await first.StopAsync();
            }
        }
        finally
        {
            try
            {
                Directory.Delete(workDir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
