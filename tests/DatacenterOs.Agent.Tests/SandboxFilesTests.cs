namespace DatacenterOs.Agent.Tests;

public sealed class SandboxFilesTests : IDisposable
{
    private readonly TempWorkDir _dir = new();
    private readonly string _root;
    private readonly string _run;
    private readonly SandboxFiles _files;

    public SandboxFilesTests()
    {
        _root = Path.Combine(_dir.Path, "sandboxes");
        _run = Path.Combine(_root, "fw-1", "t1", "run-b");
        Directory.CreateDirectory(_run);
        Directory.CreateDirectory(Path.Combine(_root, "fw-1", "t1", "run-a"));
        File.WriteAllText(Path.Combine(_root, "fw-1", "t1", "run-a", "stdout"), "old run\n");
        File.CreateSymbolicLink(Path.Combine(_root, "fw-1", "t1", "latest"), "run-b");
        File.WriteAllText(Path.Combine(_run, "stdout"), "hello world\n");
        Directory.CreateDirectory(Path.Combine(_run, "sub"));
        File.WriteAllText(Path.Combine(_run, "sub", "f.txt"), "x");
        File.WriteAllText(Path.Combine(_dir.Path, "secret"), "top secret");
        _files = new SandboxFiles(_root);
    }

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("fw-1/t1/stdout")]
    [InlineData("/fw-1/t1/stdout")]
    [InlineData("fw-1/t1/latest/stdout")]
    [InlineData("fw-1/t1/run-b/stdout")]
    [InlineData("fw-1//t1/./stdout")]
    public void Task_paths_resolve_to_the_latest_or_named_run(string path)
    {
        var resolved = _files.Resolve(path);
        Assert.Equal(SandboxPathStatus.Found, resolved.Status);
        Assert.Equal(Native.RealPath(Path.Combine(_run, "stdout")), resolved.FullPath);
    }

    [Fact]
    public void An_older_run_is_reachable_by_its_id()
    {
        var resolved = _files.Resolve("fw-1/t1/run-a/stdout");
        Assert.Equal(SandboxPathStatus.Found, resolved.Status);
        Assert.Equal("old run\n", File.ReadAllText(resolved.FullPath!));
    }

    [Theory]
    [InlineData("../secret")]
    [InlineData("fw-1/../../secret")]
    [InlineData("fw-1/t1/../../../secret")]
    [InlineData("fw-1/t1/stdout/..")]
    [InlineData("fw-1\\..\\..\\secret")]
    public void Paths_with_dot_dot_are_invalid(string path) =>
        Assert.Equal(SandboxPathStatus.Invalid, _files.Resolve(path).Status);

    [Fact]
    public void A_symbolic_link_out_of_the_sandboxes_is_invalid()
    {
        File.CreateSymbolicLink(Path.Combine(_run, "evil"), Path.Combine(_dir.Path, "secret"));
        Assert.Equal(SandboxPathStatus.Invalid, _files.Resolve("fw-1/t1/evil").Status);
        Assert.Null(_files.Read("fw-1/t1/evil", 0, null).Result);
    }

    [Theory]
    [InlineData("fw-1/t1/nope")]
    [InlineData("fw-2/t1/stdout")]
    [InlineData("fw-1/t2")]
    public void Missing_paths_are_not_found(string path) =>
        Assert.Equal(SandboxPathStatus.NotFound, _files.Resolve(path).Status);

    [Fact]
    public void Read_returns_data_at_offset_with_length()
    {
        Assert.Equal(new FileReadResult("hello world\n", 0), _files.Read("fw-1/t1/stdout", 0, null).Result);
        Assert.Equal(new FileReadResult("world", 6), _files.Read("fw-1/t1/stdout", 6, 5).Result);
        Assert.Equal(new FileReadResult("", 100), _files.Read("fw-1/t1/stdout", 100, 5).Result);
    }

    [Fact]
    public void Read_with_offset_minus_one_returns_the_size()
    {
        Assert.Equal(new FileReadResult("", 12), _files.Read("fw-1/t1/stdout", -1, null).Result);
    }

    [Fact]
    public void Reading_a_directory_or_a_negative_offset_is_invalid()
    {
        Assert.Equal(SandboxPathStatus.Invalid, _files.Read("fw-1/t1/sub", 0, null).Path.Status);
        Assert.Equal(SandboxPathStatus.Invalid, _files.Read("fw-1/t1/stdout", -2, null).Path.Status);
    }

    [Fact]
    public void Browse_lists_the_latest_run_with_relative_paths()
    {
        var entries = _files.Browse("fw-1/t1").Entries!;

        Assert.Equal(["fw-1/t1/stdout", "fw-1/t1/sub"], entries.Select(e => e.Path));
        Assert.Equal(12, entries[0].Size);
        Assert.StartsWith("-rw", entries[0].Mode, StringComparison.Ordinal);
        Assert.StartsWith("d", entries[1].Mode, StringComparison.Ordinal);
        Assert.Equal(["fw-1/t1/sub/f.txt"], _files.Browse("fw-1/t1/sub").Entries!.Select(e => e.Path));
        Assert.Equal(["fw-1"], _files.Browse("").Entries!.Select(e => e.Path));
        Assert.Equal(SandboxPathStatus.Invalid, _files.Browse("..").Path.Status);
    }
}
