using System.CommandLine;
using DatacenterOs.Host;

var listen = new Option<string>("--listen") { Description = "Master URL to listen on", DefaultValueFactory = _ => "http://127.0.0.1:5050" };
var workDir = new Option<string>("--work-dir") { Description = "State directory (SQLite registry, agent sandboxes)", DefaultValueFactory = _ => "./.dcos" };
var agentPort = new Option<int>("--agent-port") { Description = "Agent HTTP port (sandbox files)", DefaultValueFactory = _ => 5051 };
var resources = new Option<string?>("--resources") { Description = "Agent resources in Mesos text form, e.g. 'cpus:4;mem:4096;cpus(web):2'" };
var attributes = new Option<string?>("--attributes") { Description = "Agent attributes, e.g. 'rack:r1;zone:a'" };
var secretFile = new Option<string?>("--agent-secret-file") { Description = "File holding the shared secret agents present to the master" };
var masters = new Option<string>("--master") { Description = "Master URL(s), comma-separated, e.g. http://m1:5050,http://m2:5050 (the agent finds the leader)", Required = true };
var hostname = new Option<string?>("--hostname") { Description = "Host name the agent advertises" };
var advertiseIp = new Option<string?>("--advertise-ip") { Description = "IP the agent advertises" };
var allocationInterval = new Option<double>("--allocation-interval") { Description = "Seconds between allocation cycles", DefaultValueFactory = _ => 1 };
var simulatedAgents = new Option<int>("--simulated-agents") { Description = "Add N in-process simulated agents (run no process; for benchmarks and scale tests)", DefaultValueFactory = _ => 0 };
var simulatedResources = new Option<string>("--simulated-resources") { Description = "Resources of each simulated agent", DefaultValueFactory = _ => "cpus:8;mem:16384;disk:100000;ports:[31000-32000]" };
var dockerEndpoint = new Option<string>("--docker-endpoint") { Description = "Docker daemon for DOCKER containers: unix:///path or tcp://host:port; 'none' turns Docker off", DefaultValueFactory = _ => "unix:///var/run/docker.sock" };
var dockerPrivileged = new Option<bool>("--docker-allow-privileged") { Description = "Allow tasks to ask for privileged Docker containers" };
var haproxyConfig = new Option<string?>("--discovery-haproxy-config") { Description = "Write an HAProxy configuration (backend per app port, server per live instance) to this file whenever endpoints change" };
var haproxyBind = new Option<string>("--discovery-haproxy-bind") { Description = "Address the generated HAProxy frontends bind", DefaultValueFactory = _ => "0.0.0.0" };
var reloadCmd = new Option<string?>("--discovery-reload-cmd") { Description = "Shell command run after each write of the generated configuration, e.g. 'systemctl reload haproxy'" };
var discoveryUrl = new Option<string?>("--discovery-url") { Description = "Discovery API URL given to instances as DCOS_DISCOVERY_URL (default: the listen URL + /v1/discovery)" };
var authFile = new Option<string?>("--auth-file") { Description = "Principals, hashed secrets and permissions (JSON or YAML); required unless listening on loopback only" };
var writeRate = new Option<int>("--write-rate-limit") { Description = "API writes per second per principal when authentication is on (0 = no limit)", DefaultValueFactory = _ => 50 };
var allowRootTasks = new Option<bool>("--allow-root-tasks") { Description = "Let tasks whose 'user' is root run as root (otherwise they are refused)" };
var taskUser = new Option<string>("--task-user") { Description = "User tasks run as when they name none and dcosd runs as root", DefaultValueFactory = _ => "nobody" };
var store = new Option<string?>("--store") { Description = "Master state: 'sqlite' (files in --work-dir, one master) or postgres://user:password@host:port/database (or an Npgsql connection string) for several masters, one of which leads" };
var advertiseUrl = new Option<string?>("--advertise-url") { Description = "URL other masters redirect to while this master leads (default: the --listen URL)" };
var agentReregisterTimeout = new Option<double>("--agent-reregister-timeout") { Description = "Seconds a disconnected agent has to come back before its tasks become UNREACHABLE (partition-aware frameworks) or LOST", DefaultValueFactory = _ => 75 };
var offerTimeout = new Option<double>("--offer-timeout") { Description = "Seconds before unanswered offers are rescinded (0 = never)", DefaultValueFactory = _ => 60 };

var standalone = new Command("standalone", "Master and one local agent on this machine (the default)")
{
    listen, workDir, agentPort, resources, attributes, allocationInterval, offerTimeout, agentReregisterTimeout, simulatedAgents, simulatedResources, dockerEndpoint, dockerPrivileged,
    haproxyConfig, haproxyBind, reloadCmd, discoveryUrl,
    authFile, writeRate, allowRootTasks, taskUser, secretFile,
};
standalone.SetAction((r, ct) => Dcosd.RunAsync(new HostSettings
{
    Mode = HostMode.Standalone,
    Listen = r.GetValue(listen)!,
    WorkDir = r.GetValue(workDir)!,
    AgentPort = r.GetValue(agentPort),
    Resources = r.GetValue(resources),
    Attributes = r.GetValue(attributes),
    AllocationIntervalSeconds = r.GetValue(allocationInterval),
    OfferTimeoutSeconds = r.GetValue(offerTimeout),
    AgentReregisterTimeoutSeconds = r.GetValue(agentReregisterTimeout),
    SimulatedAgents = r.GetValue(simulatedAgents),
    SimulatedResources = r.GetValue(simulatedResources)!,
    DockerEndpoint = r.GetValue(dockerEndpoint)!,
    DockerAllowPrivileged = r.GetValue(dockerPrivileged),
    DiscoveryHaproxyConfig = r.GetValue(haproxyConfig),
    DiscoveryHaproxyBind = r.GetValue(haproxyBind)!,
    DiscoveryReloadCommand = r.GetValue(reloadCmd),
    DiscoveryUrl = r.GetValue(discoveryUrl),
    AuthFile = r.GetValue(authFile),
    WriteRateLimit = r.GetValue(writeRate),
    AllowRootTasks = r.GetValue(allowRootTasks),
    TaskUser = r.GetValue(taskUser)!,
    SecretFile = r.GetValue(secretFile),
}, ct));

var master = new Command("master", "A master (frameworks and agents connect to it); with --store postgres://… several masters share state and one leads")
{
    listen, workDir, store, advertiseUrl, secretFile, allocationInterval, offerTimeout, agentReregisterTimeout,
    haproxyConfig, haproxyBind, reloadCmd, discoveryUrl, authFile, writeRate,
};
master.SetAction((r, ct) => Dcosd.RunAsync(new HostSettings
{
    Mode = HostMode.Master,
    Listen = r.GetValue(listen)!,
    WorkDir = r.GetValue(workDir)!,
    SecretFile = r.GetValue(secretFile),
    AllocationIntervalSeconds = r.GetValue(allocationInterval),
    OfferTimeoutSeconds = r.GetValue(offerTimeout),
    DiscoveryHaproxyConfig = r.GetValue(haproxyConfig),
    DiscoveryHaproxyBind = r.GetValue(haproxyBind)!,
    DiscoveryReloadCommand = r.GetValue(reloadCmd),
    DiscoveryUrl = r.GetValue(discoveryUrl),
    AuthFile = r.GetValue(authFile),
    WriteRateLimit = r.GetValue(writeRate),
    Store = r.GetValue(store),
    AdvertiseUrl = r.GetValue(advertiseUrl),
    AgentReregisterTimeoutSeconds = r.GetValue(agentReregisterTimeout),
}, ct));

var agent = new Command("agent", "An agent that runs tasks for a master")
{
    masters, workDir, agentPort, resources, attributes, hostname, advertiseIp, secretFile, dockerEndpoint, dockerPrivileged, allowRootTasks, taskUser,
};
agent.SetAction((r, ct) => Dcosd.RunAsync(new HostSettings
{
    Mode = HostMode.Agent,
    Masters = r.GetValue(masters)!,
    WorkDir = r.GetValue(workDir)!,
    AgentPort = r.GetValue(agentPort),
    Resources = r.GetValue(resources),
    Attributes = r.GetValue(attributes),
    Hostname = r.GetValue(hostname),
    AdvertiseIp = r.GetValue(advertiseIp),
    SecretFile = r.GetValue(secretFile),
    DockerEndpoint = r.GetValue(dockerEndpoint)!,
    DockerAllowPrivileged = r.GetValue(dockerPrivileged),
    AllowRootTasks = r.GetValue(allowRootTasks),
    TaskUser = r.GetValue(taskUser)!,
}, ct));

var tokenFlag = new Option<bool>("--token") { Description = "Make a random bearer token and print it with its hash" };
var hashSecret = new Command("hash-secret", "Hash a secret read from stdin (one line) for an auth file's secretHash, or make a token for tokenHashes")
{
    tokenFlag,
};
hashSecret.SetAction(r => DatacenterOs.Host.HashSecretCommand.Run(r.GetValue(tokenFlag), Console.In, Console.Out, Console.Error));

var root = new RootCommand("dcosd: the DatacenterOs daemon. Without a command it runs 'standalone'.")
{
    standalone, master, agent, hashSecret,
};
var arguments = args.Length == 0 || args[0].StartsWith('-') && args[0] is not "-h" and not "--help" and not "--version" ? ["standalone", .. args] : args;
return await root.Parse(arguments).InvokeAsync();
