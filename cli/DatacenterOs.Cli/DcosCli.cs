using System.CommandLine;
using System.Net.Sockets;
using System.Text.Json;
using DatacenterOs.Kernel.Contracts;

namespace DatacenterOs.Cli;

/// <summary>
/// The <c>dcos</c> command line. Exit codes: 0 success, 1 user error (bad input, unknown id, refused request,
/// failed deployment), 2 the master could not be reached (connection refused, time-out, 502/503/504). Errors are one
/// line on standard error, <c>dcos: …</c>; never a stack trace.
/// </summary>
public static class DcosCli
{
    /// <summary>Exit code of success.</summary>
    public const int Ok = 0;

    /// <summary>Exit code of user errors.</summary>
    public const int UserError = 1;

    /// <summary>Exit code of connection problems.</summary>
    public const int ConnectionError = 2;

    /// <summary>Default master when neither <c>--master</c>, <c>DCOS_MASTER</c> nor the configuration names one.</summary>
    public const string DefaultMaster = "http://127.0.0.1:5050";

    /// <summary>Runs one invocation with <paramref name="args"/> in <paramref name="context"/>; returns the exit code.</summary>
    public static async Task<int> RunAsync(string[] args, CliContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(context);
        var root = Commands.Build(context);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            var command = string.Join(' ', parse.CommandResult.Command is RootCommand ? ["dcos"] : CommandPath(parse.CommandResult));
            await context.Error.WriteLineAsync($"dcos: {parse.Errors[0].Message} (see '{command} --help')").ConfigureAwait(false);
            return UserError;
        }

        var invocation = new InvocationConfiguration { Output = context.Out, Error = context.Error, EnableDefaultExceptionHandler = false };
        try
        {
            return await parse.InvokeAsync(invocation, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            return await ReportAsync(context, e, cancellationToken).ConfigureAwait(false);
        }
    }

    private static List<string> CommandPath(System.CommandLine.Parsing.CommandResult result)
    {
        var names = new List<string>();
        for (System.CommandLine.Parsing.SymbolResult? r = result; r is not null; r = r.Parent)
        {
            if (r is System.CommandLine.Parsing.CommandResult c)
            {
                names.Insert(0, c.Command is RootCommand ? "dcos" : c.Command.Name);
            }
        }

        return names;
    }

    /// <summary>Writes the one-line error for <paramref name="e"/> and returns its exit code.</summary>
    internal static async Task<int> ReportAsync(CliContext context, Exception e, CancellationToken cancellationToken)
    {
        var (code, message) = Classify(e, cancellationToken);
        if (message is not null)
        {
            await context.Error.WriteLineAsync("dcos: " + message.ReplaceLineEndings(" ")).ConfigureAwait(false);
        }

        return code;
    }

    private static (int Code, string? Message) Classify(Exception e, CancellationToken cancellationToken) => e switch
    {
        UserException u => (UserError, u.Message),
        ApiException { Status: 502 or 503 or 504 } api => (ConnectionError, "the master is not available: " + api.Message),
        ApiException api => (UserError, api.Message),
        HttpRequestException http => (ConnectionError, ConnectionMessage(http)),
        OperationCanceledException when cancellationToken.IsCancellationRequested => (Ok, null),
        OperationCanceledException => (ConnectionError, "the master did not answer in time"),
        JsonException json => (UserError, "invalid JSON: " + json.Message),
        IOException io => (UserError, io.Message),
        UnauthorizedAccessException access => (UserError, access.Message),
        _ => (UserError, "unexpected error: " + e.Message),
    };

    private static string ConnectionMessage(HttpRequestException e)
    {
        var inner = e.InnerException is SocketException socket ? socket.SocketErrorCode switch
        {
            SocketError.ConnectionRefused => "connection refused",
            SocketError.HostNotFound or SocketError.NoData => "host not found",
            SocketError.TimedOut => "timed out",
            _ => socket.Message,
        } : e.Message;
        var target = e.Data["dcos.target"] as string;
        return target is null ? "cannot reach the master: " + inner : $"cannot reach {target}: {inner}";
    }
}

/// <summary>A user error: bad input, an unknown id, a failed deployment. Exit code 1 with its message.</summary>
public sealed class UserException : Exception
{
    /// <summary>A user error with a message.</summary>
    public UserException(string message)
        : base(message)
    {
    }

    /// <summary>A user error without message.</summary>
    public UserException()
        : base("error")
    {
    }

    /// <summary>A user error with a message and cause.</summary>
    public UserException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
