namespace DatacenterOs.Kernel.Allocation;

/// <summary>
/// Weighted Dominant Resource Fairness sorter (Ghodsi et al., "Dominant Resource Fairness", NSDI 2011), as the
/// Mesos <c>DRFSorter</c> (<c>src/master/allocator/mesos/sorter/drf/sorter.cpp</c>):
/// share = max over scalar resources of allocation / cluster total, divided by the client's weight; clients sorted
/// by ascending share, then ascending allocation count, then path (ordinal). Optionally hierarchical: a path
/// <c>eng/web</c> lives under node <c>eng</c>, each level is sorted by subtree share, and active leaves come out in
/// pre-order; a client that is also a parent is represented by a virtual <c>.</c> child.
/// The order is kept incrementally: an allocation moves only the changed nodes (MESOS-9249). Inactive clients sit
/// at the tail of their parent and cost nothing per sort (Mesos commit a637df6d).
/// </summary>
internal sealed class DrfSorter
{
    private readonly bool _hierarchical;
    private readonly SorterTotals _totals;
    private readonly Node _root;
    private readonly Dictionary<string, double> _weights = new(StringComparer.Ordinal);
    private Node?[] _clients = new Node?[16];
    private int[] _sorted = new int[16];
    private int _sortedCount;
    private long _version = 1;
    private long _sortedVersion;
    private long _totalsVersion;

    /// <summary>Creates a sorter over <paramref name="totals"/>; <paramref name="hierarchical"/> splits paths on '/'.</summary>
    public DrfSorter(SorterTotals totals, bool hierarchical)
    {
        _totals = totals;
        _hierarchical = hierarchical;
        _root = new Node(string.Empty, string.Empty, null, isLeaf: false) { Weight = 1 };
        _totalsVersion = totals.Version;
    }

    /// <summary>Number of clients.</summary>
    public int Count { get; private set; }

    /// <summary>True when <paramref name="client"/> was added.</summary>
    public bool Contains(int client) => client < _clients.Length && _clients[client] is not null;

    /// <summary>Adds <paramref name="client"/> under <paramref name="path"/>; it starts inactive with no allocation.</summary>
    public void Add(int client, string path)
    {
        if (client >= _clients.Length)
        {
            Array.Resize(ref _clients, Math.Max(client + 1, _clients.Length * 2));
        }

        if (_clients[client] is not null)
        {
            throw new InvalidOperationException($"sorter client {client} ('{path}') already added");
        }

        EnsureFresh();
        var parent = _root;
        var components = _hierarchical ? path.Split('/') : [path];
        var prefix = string.Empty;
        for (var i = 0; i < components.Length - 1; i++)
        {
            prefix = i == 0 ? components[0] : prefix + "/" + components[i];
            parent = GetOrAddInternal(parent, components[i], prefix);
        }

        var name = components[^1];
        var existing = parent.FindChild(name);
        Node leaf;
        if (existing is not null)
        {
            if (existing.IsLeaf)
            {
                throw new InvalidOperationException($"sorter path '{path}' already added");
            }

            if (existing.FindChild(".") is not null)
            {
                throw new InvalidOperationException($"sorter path '{path}' already added");
            }

            // The path is already a parent: the client becomes its virtual "." child, weighted and tie-broken by
            // the path "a/." as in Mesos (so a weight on "a" applies to the subtree, not to the client within it).
            var selfPath = path + "/.";
            leaf = new Node(".", selfPath, existing, isLeaf: true) { Weight = WeightOf(selfPath) };
            InsertChild(existing, leaf);
        }
        else
        {
            leaf = new Node(name, path, parent, isLeaf: true) { Weight = WeightOf(path) };
            InsertChild(parent, leaf);
        }

        leaf.Client = client;
        _clients[client] = leaf;
        Count++;
        _version++;
    }

    /// <summary>Removes <paramref name="client"/> and its allocation from its ancestors.</summary>
    public void Remove(int client)
    {
        var leaf = Get(client);
        EnsureFresh();
        if (leaf.Active)
        {
            Deactivate(client);
        }

        var delta = leaf.Allocation;
        for (var n = leaf.Parent; n is not null && n != _root; n = n.Parent)
        {
            var idx = IndexOf(n);
            Subtract(n.Allocation, delta);
            n.Share = ComputeShare(n);
            Reposition(n, idx);
        }

        RemoveChild(leaf);
        var parent = leaf.Parent!;
        while (parent != _root && parent.ChildCount == 0)
        {
            RemoveChild(parent);
            parent = parent.Parent!;
        }

        // An inner node left with only its own "." client collapses back into that leaf (Mesos RemoveLeafCollapseParent).
        if (parent != _root && parent.ChildCount == 1 && parent.Children[0] is { IsLeaf: true, Name: "." } self)
        {
            var grandparent = parent.Parent!;
            RemoveChild(parent);
            RemoveAt(parent, 0);
            self.Name = parent.Name;
            self.Path = parent.Path;
            self.Weight = WeightOf(parent.Path);
            self.Count = parent.Count; // the node keeps its place in history: its count covers the subtree's offers
            self.Share = ComputeShare(self);
            InsertChild(grandparent, self);
        }

        _clients[client] = null;
        Count--;
        _version++;
    }

    /// <summary>Makes <paramref name="client"/> eligible for <see cref="Sort"/>.</summary>
    public void Activate(int client) => SetActive(Get(client), true);

    /// <summary>Hides <paramref name="client"/> from <see cref="Sort"/> (its allocation still counts).</summary>
    public void Deactivate(int client) => SetActive(Get(client), false);

    /// <summary>True when <paramref name="client"/> is active.</summary>
    public bool IsActive(int client) => Get(client).Active;

    /// <summary>Adds <paramref name="scalars"/> (thousandths by resource-name index) to the client and its ancestors, and counts one allocation.</summary>
    public void Allocated(int client, ReadOnlySpan<long> scalars) => Change(Get(client), scalars, +1);

    /// <summary>Removes <paramref name="scalars"/> from the client and its ancestors.</summary>
    public void Unallocated(int client, ReadOnlySpan<long> scalars) => Change(Get(client), scalars, -1);

    /// <summary>Sets the weight of <paramref name="path"/> (a client or an inner node); must be finite and &gt; 0.</summary>
    public void UpdateWeight(string path, double weight)
    {
        EnsureFresh();
        _weights[path] = weight;
        foreach (var node in FindByPath(path))
        {
            var idx = IndexOf(node);
            node.Weight = weight;
            node.Share = ComputeShare(node);
            Reposition(node, idx);
        }

        _version++;
    }

    /// <summary>The weighted share of <paramref name="client"/> (0 when none).</summary>
    public double Share(int client)
    {
        EnsureFresh();
        return Get(client).Share;
    }

    /// <summary>The weighted share of the node at <paramref name="path"/>, or 0 when absent.</summary>
    public double ShareOfPath(string path)
    {
        EnsureFresh();
        return FindByPath(path).FirstOrDefault()?.Share ?? 0;
    }

    /// <summary>The number of allocations counted for <paramref name="client"/>.</summary>
    public long AllocationCount(int client) => Get(client).Count;

    /// <summary>
    /// Active clients in DRF order (pre-order over the tree). The span stays valid until the next call of
    /// <see cref="Sort"/> on this sorter; allocations during iteration do not change it.
    /// </summary>
    public ReadOnlySpan<int> Sort()
    {
        EnsureFresh();
        if (_sortedVersion != _version)
        {
            _sortedCount = 0;
            Collect(_root);
            _sortedVersion = _version;
        }

        return _sorted.AsSpan(0, _sortedCount);
    }

    /// <summary>
    /// Live view of a flat sorter's active clients in DRF order, without copying: valid only until the next change
    /// of this sorter (an allocation reorders it), so callers stop iterating once they allocate.
    /// </summary>
    public LiveOrder Live()
    {
        if (_hierarchical)
        {
            throw new InvalidOperationException("live order is only for flat sorters");
        }

        EnsureFresh();
        return new LiveOrder(_root.Children, _root.ChildCount);
    }

    /// <summary>Enumerates the active clients of a flat sorter in place.</summary>
    internal readonly struct LiveOrder
    {
        private readonly Node[] _children;
        private readonly int _count;

        internal LiveOrder(Node[] children, int count)
        {
            _children = children;
            _count = count;
        }

        /// <summary>Returns the enumerator.</summary>
        public Enumerator GetEnumerator() => new(_children, _count);

        /// <summary>Enumerator over active clients.</summary>
        public struct Enumerator
        {
            private readonly Node[] _children;
            private readonly int _count;
            private int _index;

            internal Enumerator(Node[] children, int count)
            {
                _children = children;
                _count = count;
                _index = -1;
            }

            /// <summary>The current client id.</summary>
            public readonly int Current => _children[_index].Client;

            /// <summary>Advances to the next active client.</summary>
            public bool MoveNext()
            {
                _index++;
                return _index < _count && _children[_index].ActiveLeaves > 0;
            }
        }
    }

    private void Collect(Node node)
    {
        for (var i = 0; i < node.ChildCount; i++)
        {
            var child = node.Children[i];
            if (child.ActiveLeaves == 0)
            {
                break; // inactive subtrees sit at the tail
            }

            if (child.IsLeaf)
            {
                if (_sortedCount == _sorted.Length)
                {
                    Array.Resize(ref _sorted, _sorted.Length * 2);
                }

                _sorted[_sortedCount++] = child.Client;
            }
            else
            {
                Collect(child);
            }
        }
    }

    private void Change(Node leaf, ReadOnlySpan<long> scalars, int sign)
    {
        EnsureFresh();
        for (var n = leaf; n != _root; n = n.Parent!)
        {
            var idx = IndexOf(n);
            if (n.Allocation.Length < scalars.Length)
            {
                Array.Resize(ref n.Allocation, scalars.Length);
            }

            var alloc = n.Allocation;
            if (sign > 0)
            {
                for (var i = 0; i < scalars.Length; i++)
                {
                    alloc[i] += scalars[i];
                }

                n.Count++;
            }
            else
            {
                for (var i = 0; i < scalars.Length; i++)
                {
                    alloc[i] -= scalars[i];
                }
            }

            n.Share = ComputeShare(n);
            Reposition(n, idx);
        }

        _version++;
    }

    private void SetActive(Node leaf, bool active)
    {
        if (leaf.Active == active)
        {
            return;
        }

        EnsureFresh();
        var delta = active ? 1 : -1;
        for (var n = leaf; n != _root; n = n.Parent!)
        {
            var idx = IndexOf(n);
            if (n == leaf)
            {
                n.Active = active;
            }

            n.ActiveLeaves += delta;
            Reposition(n, idx);
        }

        _version++;
    }

    private double ComputeShare(Node n)
    {
        var totals = _totals.Totals;
        var alloc = n.Allocation;
        var len = Math.Min(alloc.Length, totals.Length);
        var share = 0.0;
        for (var i = 0; i < len; i++)
        {
            var t = totals[i];
            if (t <= 0 || _totals.IsExcluded(i))
            {
                continue;
            }

            var s = alloc[i] / (double)t;
            if (s > share)
            {
                share = s;
            }
        }

        return share / n.Weight;
    }

    private void EnsureFresh()
    {
        if (_totalsVersion == _totals.Version)
        {
            return;
        }

        _totalsVersion = _totals.Version;
        Recompute(_root);
        _version++;
    }

    private void Recompute(Node node)
    {
        for (var i = 0; i < node.ChildCount; i++)
        {
            var child = node.Children[i];
            child.Share = ComputeShare(child);
            if (!child.IsLeaf)
            {
                Recompute(child);
            }
        }

        Array.Sort(node.Children, 0, node.ChildCount, NodeComparer.Instance);
    }

    private double WeightOf(string path) => _weights.TryGetValue(path, out var w) ? w : 1.0;

    private Node GetOrAddInternal(Node parent, string name, string path)
    {
        var existing = parent.FindChild(name);
        if (existing is null)
        {
            var node = new Node(name, path, parent, isLeaf: false) { Weight = WeightOf(path) };
            InsertChild(parent, node);
            return node;
        }

        if (!existing.IsLeaf)
        {
            return existing;
        }

        // A leaf gains children: it becomes an inner node and the client moves to a virtual "." child.
        var idx = IndexOf(existing);
        RemoveAt(parent, idx);
        var inner = new Node(name, path, parent, isLeaf: false)
        {
            Weight = existing.Weight,
            Allocation = (long[])existing.Allocation.Clone(),
            Count = existing.Count,
            ActiveLeaves = existing.ActiveLeaves,
        };
        existing.Name = ".";
        existing.Path = path + "/.";
        existing.Weight = WeightOf(existing.Path);
        existing.Share = ComputeShare(existing);
        inner.Share = ComputeShare(inner);
        existing.Parent = inner;
        InsertChild(inner, existing);
        InsertChild(parent, inner);
        return inner;
    }

    private IEnumerable<Node> FindByPath(string path)
    {
        var parent = _root;
        var components = _hierarchical ? path.Split('/') : [path];
        for (var i = 0; i < components.Length; i++)
        {
            var child = parent.FindChild(components[i]);
            if (child is null)
            {
                yield break;
            }

            if (i == components.Length - 1)
            {
                yield return child; // an inner node: the weight is the subtree's, not its "." client's
                yield break;
            }

            parent = child;
        }
    }

    private Node Get(int client) =>
        client < _clients.Length && _clients[client] is { } n ? n : throw new InvalidOperationException($"unknown sorter client {client}");

    private static void Subtract(long[] target, long[] delta)
    {
        for (var i = 0; i < Math.Min(target.Length, delta.Length); i++)
        {
            target[i] -= delta[i];
        }
    }

    private static int IndexOf(Node n)
    {
        var p = n.Parent!;
        var idx = Array.BinarySearch(p.Children, 0, p.ChildCount, n, NodeComparer.Instance);
        if (idx < 0 || p.Children[idx] != n)
        {
            idx = Array.IndexOf(p.Children, n, 0, p.ChildCount); // defensive: never expected
        }

        return idx;
    }

    private static void InsertChild(Node parent, Node child)
    {
        child.Parent = parent;
        if (parent.ChildCount == parent.Children.Length)
        {
            Array.Resize(ref parent.Children, Math.Max(4, parent.Children.Length * 2));
        }

        var idx = Array.BinarySearch(parent.Children, 0, parent.ChildCount, child, NodeComparer.Instance);
        if (idx < 0)
        {
            idx = ~idx;
        }

        Array.Copy(parent.Children, idx, parent.Children, idx + 1, parent.ChildCount - idx);
        parent.Children[idx] = child;
        parent.ChildCount++;
        parent.ChildIndex[child.Name] = child;
    }

    private static void RemoveChild(Node child)
    {
        var parent = child.Parent!;
        RemoveAt(parent, IndexOf(child));
    }

    private static void RemoveAt(Node parent, int idx)
    {
        var child = parent.Children[idx];
        Array.Copy(parent.Children, idx + 1, parent.Children, idx, parent.ChildCount - idx - 1);
        parent.ChildCount--;
        parent.Children[parent.ChildCount] = null!;
        parent.ChildIndex.Remove(child.Name);
    }

    /// <summary>Moves <paramref name="n"/>, formerly at <paramref name="idx"/>, to its sorted place.</summary>
    private static void Reposition(Node n, int idx)
    {
        var p = n.Parent!;
        var arr = p.Children;
        var cmp = NodeComparer.Instance;
        if (idx > 0 && cmp.Compare(n, arr[idx - 1]) < 0)
        {
            // Find the first index in [0, idx) whose node sorts after n.
            int lo = 0, hi = idx - 1;
            while (lo < hi)
            {
                var mid = (lo + hi) >>> 1;
                if (cmp.Compare(arr[mid], n) > 0)
                {
                    hi = mid;
                }
                else
                {
                    lo = mid + 1;
                }
            }

            Array.Copy(arr, lo, arr, lo + 1, idx - lo);
            arr[lo] = n;
        }
        else if (idx < p.ChildCount - 1 && cmp.Compare(arr[idx + 1], n) < 0)
        {
            // Find the last index in (idx, count) whose node sorts before n.
            int lo = idx + 1, hi = p.ChildCount - 1;
            while (lo < hi)
            {
                var mid = (lo + hi + 1) >>> 1;
                if (cmp.Compare(arr[mid], n) < 0)
                {
                    lo = mid;
                }
                else
                {
                    hi = mid - 1;
                }
            }

            Array.Copy(arr, idx + 1, arr, idx, lo - idx);
            arr[lo] = n;
        }
    }

    internal sealed class Node(string name, string path, Node? parent, bool isLeaf)
    {
        public string Name = name;
        public string Path = path;
        public Node? Parent = parent;
        public readonly bool IsLeaf = isLeaf;
        public int Client = -1;
        public bool Active;
        public int ActiveLeaves;
        public double Weight = 1;
        public double Share;
        public long Count;
        public long[] Allocation = [];
        public Node[] Children = [];
        public int ChildCount;
        public readonly Dictionary<string, Node> ChildIndex = new(StringComparer.Ordinal);

        public Node? FindChild(string childName) => ChildIndex.GetValueOrDefault(childName);
    }

    /// <summary>Active subtrees first; then share, allocation count, path (a virtual leaf's path is <c>a/.</c>, as in Mesos).</summary>
    private sealed class NodeComparer : IComparer<Node>
    {
        public static readonly NodeComparer Instance = new();

        public int Compare(Node? x, Node? y)
        {
            if (ReferenceEquals(x, y))
            {
                return 0;
            }

            var xa = x!.ActiveLeaves > 0;
            var ya = y!.ActiveLeaves > 0;
            if (xa != ya)
            {
                return xa ? -1 : 1;
            }

            if (x.Share != y.Share)
            {
                return x.Share < y.Share ? -1 : 1;
            }

            if (x.Count != y.Count)
            {
                return x.Count < y.Count ? -1 : 1;
            }

            var c = string.CompareOrdinal(x.Path, y.Path);
            return c != 0 ? c : string.CompareOrdinal(x.Name, y.Name);
        }
    }
}

/// <summary>Cluster totals by resource-name index shared by all sorters; a version bump forces share recomputation.</summary>
internal sealed class SorterTotals
{
    private bool[] _excluded = [];

    /// <summary>Cluster total per resource-name index, in thousandths.</summary>
    public long[] Totals { get; private set; } = [];

    /// <summary>Incremented on every change of <see cref="Totals"/>.</summary>
    public long Version { get; private set; } = 1;

    /// <summary>Replaces the totals.</summary>
    public void Set(long[] totals)
    {
        Totals = totals;
        Version++;
    }

    /// <summary>Marks resource-name indexes excluded from fair sharing (Mesos <c>--fair_sharing_excluded_resource_names</c>).</summary>
    public void SetExcluded(bool[] excluded)
    {
        _excluded = excluded;
        Version++;
    }

    /// <summary>True when the name index is excluded from shares.</summary>
    public bool IsExcluded(int index) => index < _excluded.Length && _excluded[index];
}
