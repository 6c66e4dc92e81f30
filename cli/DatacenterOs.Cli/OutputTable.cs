using System.Text;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace DatacenterOs.Cli;

/// <summary>
/// Rows under upper-case headers. On a terminal it is drawn as a Spectre.Console table; otherwise as plain aligned
/// columns (two spaces apart, no trailing blanks), which scripts can cut and tests can compare.
/// </summary>
internal sealed class OutputTable(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public IReadOnlyList<string> Headers { get; } = headers;

    public void AddRow(params string?[] cells) => _rows.Add([.. cells.Select(c => (c ?? "").ReplaceLineEndings(" "))]);

    public IRenderable ToSpectre()
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var header in Headers)
        {
            table.AddColumn(new TableColumn(new Text(header, new Style(decoration: Decoration.Bold))));
        }

        foreach (var row in _rows)
        {
            table.AddRow(row.Select(c => (IRenderable)new Text(c)).ToArray());
        }

        return table;
    }

    public string ToPlainText()
    {
        var widths = Headers.Select((h, i) => Math.Max(h.Length, _rows.Count == 0 ? 0 : _rows.Max(r => i < r.Length ? r[i].Length : 0))).ToArray();
        var text = new StringBuilder();
        void Line(IReadOnlyList<string> cells)
        {
            var line = new StringBuilder();
            for (var i = 0; i < widths.Length; i++)
            {
                var cell = i < cells.Count ? cells[i] : "";
                line.Append(i == widths.Length - 1 ? cell : cell.PadRight(widths[i] + 2));
            }

            text.Append(line.ToString().TrimEnd()).Append('\n');
        }

        Line(Headers);
        foreach (var row in _rows)
        {
            Line(row);
        }

        return text.ToString();
    }
}
