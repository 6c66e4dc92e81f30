using System.Text.Json.Nodes;

namespace DatacenterOs.Web.Backend;

/// <summary>
/// Turns an error answer into an <see cref="ApiResult"/>: Marathon's 422 (<c>{"message","details":[{"path","errors":[…]}]}</c>),
/// the Jobs API's 400 (<c>{"message","errors":[{"field","message"}]}</c>) and plain <c>{"message"}</c> bodies.
/// </summary>
public static class ErrorParser
{
    /// <summary>Parses <paramref name="body"/> (or the raw <paramref name="text"/> when it is not JSON).</summary>
    /// <param name="status">HTTP status.</param>
    /// <param name="body">Parsed JSON body, if any.</param>
    /// <param name="text">Raw body text.</param>
    public static ApiResult Parse(int status, JsonNode? body, string text)
    {
        var fields = new List<FieldError>();
        foreach (var d in Json.Items(body?["details"]))
        {
            var path = Json.Str(d, "path");
            fields.AddRange(Json.Strings(d["errors"]).Select(e => new FieldError(path, e)));
        }

        foreach (var e in Json.Items(body?["errors"]))
        {
            fields.Add(new FieldError(Json.Str(e, "field"), Json.Str(e, "message")));
        }

        var message = Json.Str(body, "message");
        if (message.Length == 0)
        {
            message = text.Length is > 0 and < 500 ? text : $"request failed with status {status}";
        }

        return new ApiResult(status, message, fields, body);
    }
}
