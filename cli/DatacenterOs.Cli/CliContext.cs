namespace DatacenterOs.Cli;

/// <summary>
/// Everything a <c>dcos</c> invocation reads from its surroundings: output streams, standard input, environment
/// variables and the configuration file location. Tests give their own; <see cref="FromProcess"/> gives the real ones.
/// </summary>
public sealed class CliContext
{
    /// <summary>Standard output.</summary>
    public required TextWriter Out { get; init; }

    /// <summary>Standard error.</summary>
    public required TextWriter Error { get; init; }

    /// <summary>Standard input (for <c>FILE</c> given as <c>-</c>).</summary>
    public required TextReader In { get; init; }

    /// <summary>Looks up an environment variable (<c>DCOS_MASTER</c>, <c>HOME</c>, <c>XDG_CONFIG_HOME</c>); null when unset.</summary>
    public required Func<string, string?> Environment { get; init; }

    /// <summary>True when standard output is a terminal: colours, live progress and box tables.</summary>
    public bool Interactive { get; init; }

    /// <summary>Width of plain (non-terminal) output in columns.</summary>
    public int Width { get; init; } = 200;

    /// <summary>Directory of relative <c>FILE</c> arguments.</summary>
    public string WorkingDirectory { get; init; } = Directory.GetCurrentDirectory();

    /// <summary>Seconds between polls of deployments, logs and runs (default 0.5).</summary>
    public double PollSeconds { get; init; } = 0.5;

    /// <summary>The configuration file: <c>$XDG_CONFIG_HOME/dcos/config.json</c>, else <c>~/.config/dcos/config.json</c>.</summary>
    public string ConfigPath
    {
        get
        {
            var xdg = Environment("XDG_CONFIG_HOME");
            var home = Environment("HOME") ?? System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile);
            var root = string.IsNullOrEmpty(xdg) ? Path.Combine(home, ".config") : xdg;
            return Path.Combine(root, "dcos", "config.json");
        }
    }

    /// <summary>The process's console and environment.</summary>
    public static CliContext FromProcess() => new()
    {
        Out = Console.Out,
        Error = Console.Error,
        In = Console.In,
        Environment = System.Environment.GetEnvironmentVariable,
        Interactive = !Console.IsOutputRedirected,
        Width = Console.IsOutputRedirected ? 200 : Math.Max(80, SafeWindowWidth()),
    };

    private static int SafeWindowWidth()
    {
        try
        {
            return Console.WindowWidth;
        }
        catch (IOException)
        {
            return 120;
        }
    }
}
