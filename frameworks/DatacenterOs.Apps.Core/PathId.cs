using System.Collections.Immutable;
using System.Text.RegularExpressions;

namespace DatacenterOs.Apps.Core;

/// <summary>
/// A Marathon path id such as <c>/prod/web/frontend</c>: segments separated by <c>/</c>, absolute when it starts
/// with <c>/</c>. Parsing follows Marathon's <c>state/PathId.scala</c> (<c>PathId.apply</c>): leading and trailing
/// slashes are stripped and empty segments dropped; <see cref="Canonicalize"/> resolves <c>.</c> and <c>..</c> against a
/// base group. Ordering is ordinal, segment by segment. Instances are immutable.
/// </summary>
public sealed partial class PathId : IEquatable<PathId>, IComparable<PathId>
{
    /// <summary>
    /// The regular expression every segment must fully match (Marathon <c>PathId.ID_PATH_SEGMENT_PATTERN</c>, also
    /// RAML <c>stringTypes.raml#PathId</c>): lowercase letters, digits and <c>-</c> (not at the start or end of a label),
    /// dots between labels, or exactly <c>.</c> / <c>..</c>.
    /// </summary>
    public const string SegmentPattern =
        @"^(([a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9])\.)*([a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9])|(\.|\.\.)$";

    /// <summary>Last segments an id may not have (Marathon <c>PathId.reservedKeywords</c> plus <c>.</c> and <c>..</c>).</summary>
    public static readonly ImmutableArray<string> ReservedKeywords = ["restart", "tasks", "versions", ".", ".."];

    private readonly ImmutableArray<string> segments;

    private PathId(ImmutableArray<string> segments, bool isAbsolute)
    {
        this.segments = segments;
        IsAbsolute = isAbsolute;
    }

    /// <summary>The root group <c>/</c>.</summary>
    public static PathId Root { get; } = new([], isAbsolute: true);

    /// <summary>The segments, outermost first (empty for the root).</summary>
    public IReadOnlyList<string> Segments => segments;

    /// <summary>True for ids written with a leading <c>/</c>.</summary>
    public bool IsAbsolute { get; }

    /// <summary>True when there are no segments (<c>/</c>, or the empty relative id).</summary>
    public bool IsRoot => segments.IsEmpty;

    /// <summary>True for a direct child of the root, e.g. <c>/prod</c>.</summary>
    public bool IsTopLevel => segments.Length == 1;

    /// <summary>The last segment, or the empty string for the root.</summary>
    public string Name => segments.IsEmpty ? string.Empty : segments[^1];

    /// <summary>The enclosing group (the root is its own parent).</summary>
    public PathId Parent => segments.IsEmpty ? this : new PathId(segments.RemoveAt(segments.Length - 1), IsAbsolute);

    /// <summary>
    /// Parses like Marathon's <c>PathId(String)</c>: absolute iff it starts with <c>/</c>; leading/trailing slashes and
    /// empty segments are ignored. Never fails: use <see cref="Validate"/> for the naming rules.
    /// </summary>
    public static PathId Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var parts = value.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return new PathId([.. parts], value.StartsWith('/'));
    }

    /// <summary>Builds an absolute id from segments (not validated).</summary>
    public static PathId FromSegments(IEnumerable<string> segments) => new([.. segments], isAbsolute: true);

    /// <summary>
    /// Resolves this id against <paramref name="baseGroup"/> (Marathon <c>canonicalPath</c>): a relative id is appended to
    /// the base; <c>.</c> segments are dropped and <c>..</c> removes the previous segment (never above the root).
    /// The result is absolute.
    /// </summary>
    /// <exception cref="ArgumentException">The base is not absolute.</exception>
    public PathId Canonicalize(PathId? baseGroup = null)
    {
        baseGroup ??= Root;
        if (!baseGroup.IsAbsolute)
        {
            throw new ArgumentException("Base path is not absolute, canonical path can not be computed!", nameof(baseGroup));
        }

        if (IsAbsolute && !segments.Any(static s => s is "." or ".."))
        {
            return this; // already canonical (ids are immutable): the common case, e.g. in every comparison
        }

        var source = IsAbsolute ? segments : baseGroup.segments.AddRange(segments);
        var result = ImmutableArray.CreateBuilder<string>(source.Length);
        foreach (var segment in source)
        {
            if (segment == ".")
            {
                continue;
            }

            if (segment == "..")
            {
                if (result.Count > 0)
                {
                    result.RemoveAt(result.Count - 1);
                }

                continue;
            }

            result.Add(segment);
        }

        return new PathId(result.ToImmutable(), isAbsolute: true);
    }

    /// <summary>Appends a relative id or a single segment (e.g. <c>/prod</c> + <c>web/a</c> = <c>/prod/web/a</c>).</summary>
    public PathId Append(string child)
    {
        ArgumentNullException.ThrowIfNull(child);
        return new PathId(segments.AddRange(Parse(child).segments), IsAbsolute);
    }

    /// <summary>True when this id equals <paramref name="ancestor"/> or lies below it (Marathon <c>includes</c>, reversed).</summary>
    public bool IsWithin(PathId ancestor)
    {
        ArgumentNullException.ThrowIfNull(ancestor);
        if (ancestor.segments.Length > segments.Length)
        {
            return false;
        }

        for (var i = 0; i < ancestor.segments.Length; i++)
        {
            if (!string.Equals(ancestor.segments[i], segments[i], StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>True when this id is a direct child of <paramref name="group"/>.</summary>
    public bool IsChildOf(PathId group)
    {
        ArgumentNullException.ThrowIfNull(group);
        return segments.Length == group.segments.Length + 1 && IsWithin(group);
    }

    /// <summary>Longest id accepted, in characters (hostile-input limit; ids appear in headers, task ids and paths).</summary>
    public const int MaxLength = 512;

    /// <summary>The segments joined by <c>_</c> (Marathon <c>safePath</c>, used in task ids).</summary>
    public string SafePath => string.Join('_', segments);

    /// <summary>
    /// The naming-rule violations of a raw id string (empty when valid), with Marathon's messages: each segment must
    /// fully match <see cref="SegmentPattern"/> and the last one must not be a reserved keyword. DatacenterOs is stricter
    /// than Marathon's lenient parser in two ways: a trailing <c>/</c> and empty segments (<c>//</c>) are rejected
    /// instead of silently dropped. Root-ness and absoluteness are checked by the app validator, not here.
    /// </summary>
    public static IReadOnlyList<string> Validate(string? raw)
    {
        var errors = new List<string>();
        if (string.IsNullOrEmpty(raw))
        {
            return errors;
        }

        if (raw.Length > MaxLength)
        {
            errors.Add($"must be at most {MaxLength} characters long (is {raw.Length})");
            return errors;
        }

        if (raw.Length > 1 && raw.EndsWith('/'))
        {
            errors.Add("must not end with '/'");
        }

        if (raw.Contains("//", StringComparison.Ordinal))
        {
            errors.Add("must not contain empty path segments ('//')");
        }

        var parsed = Parse(raw);
        if (!parsed.segments.All(s => SegmentRegex().IsMatch(s)))
        {
            errors.Add($"must fully match regular expression '{SegmentPattern}'");
        }

        if (!parsed.IsRoot && ReservedKeywords.Contains(parsed.Name))
        {
            errors.Add($"must not end with any of the following reserved keywords: {string.Join(", ", ReservedKeywords)}");
        }

        return errors;
    }

    /// <summary>True when <paramref name="raw"/> breaks none of the rules of <see cref="Validate"/>.</summary>
    public static bool IsValid(string? raw) => !string.IsNullOrEmpty(raw) && Validate(raw).Count == 0;

    /// <inheritdoc/>
    public override string ToString() =>
        IsAbsolute ? "/" + string.Join('/', segments) : string.Join('/', segments);

    /// <inheritdoc/>
    public bool Equals(PathId? other) =>
        other is not null && other.IsAbsolute == IsAbsolute && segments.SequenceEqual(other.segments, StringComparer.Ordinal);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as PathId);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(IsAbsolute);
        foreach (var s in segments)
        {
            hash.Add(s, StringComparer.Ordinal);
        }

        return hash.ToHashCode();
    }

    /// <summary>Ordinal, segment-by-segment order of the canonical forms (Marathon <c>PathId.compare</c>).</summary>
    public int CompareTo(PathId? other)
    {
        if (other is null)
        {
            return 1;
        }

        var left = Canonicalize().segments;
        var right = other.Canonicalize().segments;
        for (var i = 0; i < Math.Min(left.Length, right.Length); i++)
        {
            var c = string.CompareOrdinal(left[i], right[i]);
            if (c != 0)
            {
                return c;
            }
        }

        return left.Length.CompareTo(right.Length);
    }

    /// <summary>Equality operator.</summary>
    public static bool operator ==(PathId? left, PathId? right) => left is null ? right is null : left.Equals(right);

    /// <summary>Inequality operator.</summary>
    public static bool operator !=(PathId? left, PathId? right) => !(left == right);

    /// <summary>Ordering operator.</summary>
    public static bool operator <(PathId? left, PathId? right) => Compare(left, right) < 0;

    /// <summary>Ordering operator.</summary>
    public static bool operator >(PathId? left, PathId? right) => Compare(left, right) > 0;

    /// <summary>Ordering operator.</summary>
    public static bool operator <=(PathId? left, PathId? right) => Compare(left, right) <= 0;

    /// <summary>Ordering operator.</summary>
    public static bool operator >=(PathId? left, PathId? right) => Compare(left, right) >= 0;

    private static int Compare(PathId? left, PathId? right) =>
        left is null ? (right is null ? 0 : -1) : left.CompareTo(right);

    [GeneratedRegex(@"^(?:(([a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9])\.)*([a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9])|(\.|\.\.))$", RegexOptions.CultureInvariant)]
    private static partial Regex SegmentRegex();
}
