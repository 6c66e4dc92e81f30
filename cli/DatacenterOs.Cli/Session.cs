using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using DatacenterOs.Apps.Contracts;
using DatacenterOs.Jobs.Contracts;
using DatacenterOs.Kernel.Contracts;
using Spectre.Console;

namespace DatacenterOs.Cli;

/// <summary>One invocation's connection to a master (typed clients) and its output helpers.</summary>
internal sealed class Session : IDisposable
{
    private static readonly JsonSerializerOptions IndentedJson = new()
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<JsonSerializerOptions, JsonSerializerOptions> Indented = [];

    public Session(CliContext context, Uri master)
    {
        Context = context;
        Master = master;
        Http = new HttpClient { Timeout = RequestTimeout };
        Authorize(Http);
        Apps = new AppsClient(Http, master);
        Jobs = new JobsClient(Http, master);
        Operator = new OperatorClient(Http, master);
        Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = context.Interactive ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = context.Interactive ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = context.Interactive ? InteractionSupport.Yes : InteractionSupport.No,
            Out = new AnsiConsoleOutput(context.Out),
        });
        Console.Profile.Width = context.Width;
    }

    public CliContext Context { get; }

    public Uri Master { get; }

    public HttpClient Http { get; }

    public AppsClient Apps { get; }

    public JobsClient Jobs { get; }

    public OperatorClient Operator { get; }

    public IAnsiConsole Console { get; }

    /// <summary>Requests that take longer than this fail with exit code 2 (streams excepted).</summary>
    public static TimeSpan RequestTimeout { get; } = TimeSpan.FromSeconds(30);

    /// <summary>The stored credential (<c>dcos auth login</c>) or <c>DCOS_TOKEN</c>, as an <c>Authorization</c> value; null when none.</summary>
    public string? Authorization => Context.Environment("DCOS_TOKEN") is { Length: > 0 } token ? "Bearer " + token : CliConfig.Load(Context).Authorization;

    /// <summary>Makes <paramref name="http"/> send <see cref="Authorization"/> on every request.</summary>
    public void Authorize(HttpClient http)
    {
        ArgumentNullException.ThrowIfNull(http);
        if (Authorization is { } value)
        {
            http.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", value);
        }
    }

    public void Line(string text = "") => Context.Out.WriteLine(text);

    /// <summary>Writes <paramref name="value"/> as indented JSON (the stable machine output of <c>--json</c>).</summary>
    public void Json<T>(T value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Context.Out.WriteLine(JsonSerializer.Serialize(value, options.WriteIndented ? options : Indented.GetValue(options, o => new JsonSerializerOptions(o) { WriteIndented = true })));
    }

    /// <summary>Writes a JSON tree indented.</summary>
    public void Json(JsonNode? node) => Context.Out.WriteLine(node?.ToJsonString(IndentedJson) ?? "null");

    /// <summary>A table with the given upper-case headers.</summary>
    public static OutputTable NewTable(params string[] headers) => new(headers);

    public static void Row(OutputTable table, params string?[] cells) => table.AddRow(cells);

    /// <summary>Writes a table: drawn on a terminal, plain aligned columns otherwise.</summary>
    public void Write(OutputTable table)
    {
        if (Context.Interactive)
        {
            Console.Write(table.ToSpectre());
        }
        else
        {
            Context.Out.Write(table.ToPlainText());
        }
    }

    /// <summary>Reads <paramref name="file"/> (<c>-</c>: standard input) and checks it is JSON.</summary>
    /// <exception cref="UserException">Missing or unreadable file, or invalid JSON.</exception>
    public string ReadJsonInput(string file)
    {
        string text;
        if (file == "-")
        {
            text = Context.In.ReadToEnd();
        }
        else
        {
            var path = Path.IsPathRooted(file) ? file : Path.Combine(Context.WorkingDirectory, file);
            if (!File.Exists(path))
            {
                throw new UserException($"{file}: no such file");
            }

            try
            {
                text = File.ReadAllText(path);
            }
            catch (IOException e)
            {
                throw new UserException($"{file}: {e.Message}");
            }
            catch (UnauthorizedAccessException e)
            {
                throw new UserException($"{file}: {e.Message}");
            }
        }

        try
        {
            using var _ = JsonDocument.Parse(text);
        }
        catch (JsonException e)
        {
            var where = e.LineNumber is { } line ? $" at line {(line + 1).ToString(CultureInfo.InvariantCulture)}" : "";
            throw new UserException($"{(file == "-" ? "standard input" : file)} is not valid JSON{where}: {FirstSentence(e.Message)}");
        }

        return text;
    }

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal) is var l and > 0 ? l : message.IndexOf(" Path:", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).TrimEnd('.');
    }

    public static string Number(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);

    public static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    public void Dispose() => Http.Dispose();
}
