
namespace DatacenterOs.Kernel.Allocation;

/// <summary>Interns scalar resource names to small integer indexes so hot loops work on <c>long[]</c> vectors.</summary>
internal sealed class ResourceNameTable
{
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
    private readonly List<string> _names = [];

    public ResourceNameTable()
    {
        foreach (var known in new[] { "cpus", "mem", "disk", "gpus" })
        {
            Intern(known);
        }
    }

    /// <summary>Number of interned names; vectors have this length.</summary>
    public int Count => _names.Count;

    /// <summary>The name at <paramref name="index"/>.</summary>
    public string this[int index] => _names[index];

    /// <summary>Index of <paramref name="name"/>, interning it when new.</summary>
    public int Intern(string name)
    {
        if (!_index.TryGetValue(name, out var i))
        {
            i = _names.Count;
            _names.Add(name);
            _index[name] = i;
        }

        return i;
    }

    /// <summary>Index of <paramref name="name"/>, or -1.</summary>
    public int Find(string name) => _index.GetValueOrDefault(name, -1);

    /// <summary>Scalar thousandths of <paramref name="resources"/> summed by name; unreserved ones also into <paramref name="unreserved"/>.</summary>
    public void Fill(Resources resources, long[] all, long[]? unreserved)
    {
        foreach (var r in resources.Items)
        {
            if (r.Type != ResourceType.Scalar)
            {
                continue;
            }

            var i = Intern(r.Name);
            all[i] += r.ScalarMillis;
            if (unreserved is not null && !r.IsReserved)
            {
                unreserved[i] += r.ScalarMillis;
            }
        }
    }

    /// <summary>Interns every scalar name in <paramref name="resources"/>.</summary>
    public void InternAll(Resources resources)
    {
        foreach (var r in resources.Items)
        {
            if (r.Type == ResourceType.Scalar)
            {
                Intern(r.Name);
            }
        }
    }
}
