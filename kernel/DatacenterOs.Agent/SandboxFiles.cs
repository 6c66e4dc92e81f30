using System.Text;

namespace DatacenterOs.Agent;

/// <summary>Outcome of resolving a sandbox path.</summary>
public enum SandboxPathStatus
{
    /// <summary>The path names an existing file or directory inside the sandboxes.</summary>
    Found,

    /// <summary>The path is well-formed but nothing exists there (HTTP 404).</summary>
    NotFound,

    /// <summary>The path is malformed or escapes the sandboxes root (<c>..</c>, a symbolic link out) (HTTP 400).</summary>
    Invalid,
}

/// <summary>A resolved sandbox path.</summary>
/// <param name="Status">Whether it was found.</param>
/// <param name="FullPath">Absolute path on disk when <see cref="SandboxPathStatus.Found"/>.</param>
/// <param name="Error">Why it is invalid or missing.</param>
public sealed record SandboxPath(SandboxPathStatus Status, string? FullPath, string? Error);

/// <summary>Mesos <c>/files/read</c> answer: <c>{"data":"…","offset":N}</c>.</summary>
/// <param name="Data">The bytes read, as text (UTF-8).</param>
/// <param name="Offset">Offset of <see cref="Data"/>; with offset -1 in the request, the file size.</param>
public sealed record FileReadResult(string Data, long Offset);

/// <summary>One entry of Mesos <c>/files/browse</c>.</summary>
/// <param name="Path">Sandbox-relative path of the entry (usable with <c>/files/read</c>).</param>
/// <param name="Size">Size in bytes.</param>
/// <param name="Mtime">Last modification, seconds since the Unix epoch.</param>
/// <param name="Mode">Permissions as <c>ls -l</c> prints them, e.g. <c>-rw-r--r--</c>.</param>
/// <param name="Nlink">Link count (always 1: not tracked).</param>
public sealed record FileEntry(string Path, long Size, double Mtime, string Mode, int Nlink);

/// <summary>
/// Read-only access to task sandboxes by sandbox-relative paths <c>&lt;frameworkId&gt;/&lt;taskId&gt;/&lt;file&gt;</c>
/// (the task's latest run) or <c>&lt;frameworkId&gt;/&lt;taskId&gt;/&lt;runId&gt;/&lt;file&gt;</c> (a given run).
/// Paths with <c>..</c> or that resolve (through symbolic links) outside the sandboxes root are refused.
/// </summary>
public sealed class SandboxFiles
{
    /// <summary>Largest number of bytes returned by one read (1 MiB); also the default length.</summary>
    public const int MaxReadLength = 1024 * 1024;

    private readonly string _root;

    /// <summary>Serves files under <paramref name="sandboxesRoot"/> (<c>&lt;workdir&gt;/sandboxes</c>).</summary>
    public SandboxFiles(string sandboxesRoot)
    {
        ArgumentNullException.ThrowIfNull(sandboxesRoot);
        _root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(sandboxesRoot));
    }

    /// <summary>Maps a sandbox-relative path to a file or directory on disk, safely.</summary>
    public SandboxPath Resolve(string? path)
    {
        path ??= "";
        if (path.Contains('\0', StringComparison.Ordinal) || path.Contains('\\', StringComparison.Ordinal))
        {
            return new(SandboxPathStatus.Invalid, null, "the path contains a NUL or a backslash");
        }

        var segments = new List<string>();
        foreach (var segment in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (segment == "..")
            {
                return new(SandboxPathStatus.Invalid, null, "the path may not contain '..'");
            }

            if (segment != ".")
            {
                segments.Add(segment);
            }
        }

        string candidate;
        if (segments.Count < 2)
        {
            candidate = Path.Combine([_root, .. segments]);
        }
        else
        {
            var taskDir = Path.Combine(_root, segments[0], segments[1]);
            string runDir;
            var rest = 2;
            if (segments.Count >= 3 && Directory.Exists(Path.Combine(taskDir, segments[2])))
            {
                runDir = Path.Combine(taskDir, segments[2]);
                rest = 3;
            }
            else
            {
                runDir = Path.Combine(taskDir, "latest");
            }

            candidate = Path.Combine([runDir, .. segments.Skip(rest)]);
        }

        candidate = Path.GetFullPath(candidate);
        if (!IsWithin(_root, candidate))
        {
            return new(SandboxPathStatus.Invalid, null, "the path escapes the sandboxes");
        }

        if (!File.Exists(candidate) && !Directory.Exists(candidate))
        {
            return new(SandboxPathStatus.NotFound, null, $"'{path}' does not exist");
        }

        // Symbolic links (e.g. one a task made to /etc/passwd) must not lead outside the sandboxes.
        var realRoot = Native.RealPath(_root) ?? _root;
        var real = Native.RealPath(candidate);
        if (real is null)
        {
            return new(SandboxPathStatus.NotFound, null, $"'{path}' does not exist");
        }

        if (!IsWithin(realRoot, real))
        {
            return new(SandboxPathStatus.Invalid, null, "the path leads outside the sandboxes");
        }

        return new(SandboxPathStatus.Found, real, null);
    }

    /// <summary>
    /// Reads up to <paramref name="length"/> bytes (default and cap <see cref="MaxReadLength"/>) at <paramref name="offset"/>.
    /// Offset -1 returns no data and the file size as offset, as Mesos does. An offset past the end returns no data.
    /// </summary>
    /// <returns>The data, or the resolution failure (a directory is <see cref="SandboxPathStatus.Invalid"/>).</returns>
    public (FileReadResult? Result, SandboxPath Path) Read(string? path, long offset, long? length)
    {
        var resolved = Resolve(path);
        if (resolved.Status != SandboxPathStatus.Found)
        {
            return (null, resolved);
        }

        if (Directory.Exists(resolved.FullPath))
        {
            return (null, new(SandboxPathStatus.Invalid, null, "cannot read a directory"));
        }

        if (offset < -1 || length < 0)
        {
            return (null, new(SandboxPathStatus.Invalid, null, "offset and length must not be negative"));
        }

        using var stream = new FileStream(resolved.FullPath!, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var size = stream.Length;
        if (offset == -1)
        {
            return (new FileReadResult("", size), resolved);
        }

        if (offset >= size)
        {
            return (new FileReadResult("", offset), resolved);
        }

        var count = (int)Math.Min(Math.Min(length ?? MaxReadLength, MaxReadLength), size - offset);
        var buffer = new byte[count];
        stream.Position = offset;
        var read = stream.ReadAtLeast(buffer, count, throwOnEndOfStream: false);
        return (new FileReadResult(Encoding.UTF8.GetString(buffer, 0, read), offset), resolved);
    }

    /// <summary>Lists a directory (or describes a file); entries sorted by name, paths relative like the request.</summary>
    public (IReadOnlyList<FileEntry>? Entries, SandboxPath Path) Browse(string? path)
    {
        var resolved = Resolve(path);
        if (resolved.Status != SandboxPathStatus.Found)
        {
            return (null, resolved);
        }

        var prefix = string.Join('/', (path ?? "").Split('/', StringSplitOptions.RemoveEmptyEntries).Where(s => s != "."));
        if (File.Exists(resolved.FullPath))
        {
            return ([Describe(new FileInfo(resolved.FullPath!), prefix)], resolved);
        }

        var entries = new DirectoryInfo(resolved.FullPath!)
            .EnumerateFileSystemInfos()
            .OrderBy(i => i.Name, StringComparer.Ordinal)
            .Select(i => Describe(i, prefix.Length == 0 ? i.Name : prefix + "/" + i.Name))
            .ToList();
        return (entries, resolved);
    }

    private static FileEntry Describe(FileSystemInfo info, string path)
    {
        var isDir = info is DirectoryInfo || (info.Attributes & FileAttributes.Directory) != 0;
        var size = info is FileInfo file ? file.Length : 4096;
        var mode = info.UnixFileMode;
        var text = new StringBuilder(10);
        text.Append(info.LinkTarget is not null ? 'l' : isDir ? 'd' : '-');
        text.Append(mode.HasFlag(UnixFileMode.UserRead) ? 'r' : '-');
        text.Append(mode.HasFlag(UnixFileMode.UserWrite) ? 'w' : '-');
        text.Append(mode.HasFlag(UnixFileMode.UserExecute) ? 'x' : '-');
        text.Append(mode.HasFlag(UnixFileMode.GroupRead) ? 'r' : '-');
        text.Append(mode.HasFlag(UnixFileMode.GroupWrite) ? 'w' : '-');
        text.Append(mode.HasFlag(UnixFileMode.GroupExecute) ? 'x' : '-');
        text.Append(mode.HasFlag(UnixFileMode.OtherRead) ? 'r' : '-');
        text.Append(mode.HasFlag(UnixFileMode.OtherWrite) ? 'w' : '-');
        text.Append(mode.HasFlag(UnixFileMode.OtherExecute) ? 'x' : '-');
        var mtime = new DateTimeOffset(info.LastWriteTimeUtc).ToUnixTimeMilliseconds() / 1000.0;
        return new FileEntry(path, size, mtime, text.ToString(), 1);
    }

    private static bool IsWithin(string root, string path) =>
        string.Equals(path, root, StringComparison.Ordinal)
        || path.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal);
}
