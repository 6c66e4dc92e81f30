using System.Diagnostics;
using System.Net.Sockets;
using DatacenterOs.Testing;

namespace DatacenterOs.Apps.Tests;

/// <summary>
/// The generated HAProxy configuration with the real Debian <c>haproxy</c> on loopback, in front of real instances (a
/// small Python HTTP server per instance, run by a real agent): traffic reaches every live instance, and stops reaching
/// a killed one once the configuration is rewritten and HAProxy reloaded. The instances are a LeaderStandby app with a
/// state callback, so the same test checks that instances are told their state and see their discovery environment.
/// </summary>
public sealed class HaproxyDiscoveryTests
{
    private const string Server = """
        import http.server, json, os
        TASK = os.environ.get("MESOS_TASK_ID", "?")
        state = {"s": "NONE"}
        class H(http.server.BaseHTTPRequestHandler):
            def reply(self, body):
                b = body.encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(b)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(b)
            def do_GET(self):
                if self.path == "/env":
                    self.reply("\n".join(k + "=" + v for k, v in sorted(os.environ.items())))
                elif self.path == "/state":
                    self.reply(state["s"])
                else:
                    self.reply(TASK)
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                state["s"] = json.loads(self.rfile.read(n) or b"{}").get("state", "?")
                self.reply("ok")
            def log_message(self, *args):
                pass
        http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT0"])), H).serve_forever()
        """;

    private static string? Haproxy() => File.Exists("/usr/sbin/haproxy") ? "/usr/sbin/haproxy" : null;

    private static async Task<string> GetAsync(int port, string path)
    {
        // A new connection per request: HAProxy picks a server per connection.
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"http://127.0.0.1:{port}{path}"));
        request.Headers.ConnectionClose = true;
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync();
    }

    [Fact]
    public async Task Traffic_through_haproxy_reaches_the_live_instances_and_stops_reaching_a_killed_one()
    {
        if (Haproxy() is not { } haproxy || !File.Exists("/usr/bin/python3"))
        {
            Assert.False(Environment.GetEnvironmentVariable("CI") == "true", "haproxy and python3 are required under CI (eng/setup-haproxy.sh)");
            return; // Skipped: haproxy (apt-get install haproxy) or python3 is missing on this machine.
        }

        var dir = Directory.CreateTempSubdirectory("dcos-haproxy-").FullName;
        var config = Path.Combine(dir, "haproxy.cfg");
        var pidFile = Path.Combine(dir, "haproxy.pid");
        var script = Path.Combine(dir, "server.py");
        await File.WriteAllTextAsync(script, Server);
        var servicePort = DcosdProcess.FreePort();
        Process? proxy = null;
        try
        {
            await using var f = await AppsFixture.StartWithRealAgentAsync(new DiscoveryOptions
            {
                Url = "http://discovery.test/v1/discovery",
                HaproxyConfigPath = config,
                HaproxyBindAddress = "127.0.0.1",
                ReloadCommand = $"kill -USR2 $(cat {pidFile})",
            });
            var (status, body, _) = await f.SendAsync(HttpMethod.Post, "/v2/apps", $$$"""
                {"id":"/lb","cmd":"exec python3 {{{script}}}","cpus":0.1,"mem":64,"instances":2,
                 "portDefinitions":[{"port":{{{servicePort}}},"name":"http"}],
                 "healthChecks":[{"protocol":"MESOS_HTTP","path":"/id","portIndex":0,"gracePeriodSeconds":60,"intervalSeconds":2,"timeoutSeconds":1,"delaySeconds":0}],
                 "stateModel":{"type":"LeaderStandby","leaders":1,"callbackPath":"/state"}}
                """);
            Assert.True(status == 201, body?.ToJsonString());
            await f.WaitForStableAsync("/lb", 2, a => (int)a["tasksHealthy"]! == 2);
            var ids = AppsFixture.TaskIds(await f.GetAppAsync("/lb")).Order(StringComparer.Ordinal).ToList();
            await AppsFixture.WaitUntilAsync(async () => ids.All((await File.ReadAllTextAsync(config)).Contains), "the configuration to list both instances");

            // The real haproxy in master-worker mode on the generated configuration (USR2 reloads it).
            var proxyLog = new System.Text.StringBuilder();
            proxy = new Process { StartInfo = new ProcessStartInfo(haproxy, ["-W", "-db", "-f", config, "-p", pidFile]) { RedirectStandardError = true, RedirectStandardOutput = true } };
            proxy.OutputDataReceived += (_, e) => { lock (proxyLog) { proxyLog.AppendLine(e.Data); } };
            proxy.ErrorDataReceived += (_, e) => { lock (proxyLog) { proxyLog.AppendLine(e.Data); } };
            proxy.Start();
            proxy.BeginOutputReadLine();
            proxy.BeginErrorReadLine();
            await AppsFixture.WaitUntilAsync(
                async () =>
                {
                    if (proxy.HasExited)
                    {
                        lock (proxyLog)
                        {
                            Assert.Fail("haproxy exited: " + proxyLog);
                        }
                    }

                    try
                    {
                        using var tcp = new TcpClient();
                        await tcp.ConnectAsync("127.0.0.1", servicePort);
                        return File.Exists(pidFile);
                    }
                    catch (SocketException)
                    {
                        return false;
                    }
                },
                "haproxy to listen");

            // Round robin over both instances.
            var seen = new HashSet<string>();
            for (var i = 0; i < 10; i++)
            {
                seen.Add(await GetAsync(servicePort, "/id"));
            }

            Assert.Equal(ids, seen.Order(StringComparer.Ordinal));

            // The instances' environment: their ports by name and the discovery URL.
            var env = await GetAsync(servicePort, "/env");
            Assert.Contains("DCOS_DISCOVERY_URL=http://discovery.test/v1/discovery\n", env, StringComparison.Ordinal);
            Assert.Contains("DCOS_APP_DISCOVERY_URL=http://discovery.test/v1/discovery/apps/lb\n", env, StringComparison.Ordinal);
            Assert.Contains("MARATHON_APP_ID=/lb\n", env, StringComparison.Ordinal);
            Assert.Contains("DCOS_STATE_MODEL=LeaderStandby\n", env, StringComparison.Ordinal);
            Assert.Matches(@"PORT_HTTP=\d+\n", env);

            // Each instance was told its state through the callback.
            var tasks = (await f.SendAsync(HttpMethod.Get, "/v2/apps/lb/tasks")).Body!["tasks"]!.AsArray();
            var leader = (string)tasks.Single(t => (string?)t!["modelState"] == "LEADER")!["id"]!;
            var ports = tasks.ToDictionary(t => (string)t!["id"]!, t => (int)t!["ports"]![0]!);
            await AppsFixture.WaitUntilAsync(
                async () => await GetAsync(ports[leader], "/state") == "LEADER" && await GetAsync(ports[ids.Single(i => i != leader)], "/state") == "STANDBY",
                "the callbacks to reach both instances");

            // Kill the leader: it leaves the configuration, haproxy is reloaded, and no request reaches it any more;
            // the standby is promoted and told so.
            var reloads = f.Apps.LoadBalancer!.Reloads;
            Assert.Equal(200, (await f.SendAsync(HttpMethod.Delete, "/v2/apps/lb/tasks/" + leader)).Status);
            await AppsFixture.WaitUntilAsync(
                async () => !(await File.ReadAllTextAsync(config)).Contains(leader, StringComparison.Ordinal) && f.Apps.LoadBalancer!.Reloads > reloads,
                "the configuration without the killed instance, reloaded");
            Assert.Null(f.Apps.LoadBalancer!.LastError);
            for (var i = 0; i < 10; i++)
            {
                Assert.NotEqual(leader, await GetAsync(servicePort, "/id"));
            }

            var survivor = ids.Single(i => i != leader);
            await AppsFixture.WaitUntilAsync(async () => await GetAsync(ports[survivor], "/state") == "LEADER", "the standby to be told it leads");

            // The replacement joins the configuration once healthy, and takes traffic.
            await f.WaitForStableAsync("/lb", 2, a => (int)a["tasksHealthy"]! == 2);
            var replacement = AppsFixture.TaskIds(await f.GetAppAsync("/lb")).Single(i => !ids.Contains(i));
            await AppsFixture.WaitUntilAsync(async () => (await File.ReadAllTextAsync(config)).Contains(replacement, StringComparison.Ordinal) && f.Apps.LoadBalancer!.LastError is null, "the replacement in the configuration");
            await AppsFixture.WaitUntilAsync(
                async () =>
                {
                    var now = new HashSet<string>();
                    for (var i = 0; i < 6; i++)
                    {
                        now.Add(await GetAsync(servicePort, "/id"));
                    }

                    Assert.DoesNotContain(leader, now);
                    return now.SetEquals([survivor, replacement]);
                },
                "traffic to reach the survivor and the replacement");
            Assert.Equal("STANDBY", await GetAsync(ports.GetValueOrDefault(replacement, 0) is > 0 and var p ? p : (int)(await f.SendAsync(HttpMethod.Get, "/v2/apps/lb/tasks")).Body!["tasks"]!.AsArray().Single(t => (string)t!["id"]! == replacement)!["ports"]![0]!, "/state"));
        }
        finally
        {
            if (proxy is { HasExited: false })
            {
                proxy.Kill(entireProcessTree: true);
                await proxy.WaitForExitAsync();
            }

            proxy?.Dispose();
            Directory.Delete(dir, recursive: true);
        }
    }
}
