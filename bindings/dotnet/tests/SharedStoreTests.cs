// The shared-store options (TokenCache, RedisUrl, TokenStore), InvalidateToken and HasProduct against the emulator.

using System;
using System.Collections.Generic;
using System.IO;
using NUnit.Framework;
using X8;

namespace X8.Tests
{
    [TestFixture]
    public class SharedStoreTests : EmulatorFixture
    {
        /// <summary>A token store in memory, shared by the clients of one test as a fleet shares Redis.</summary>
        private sealed class MemoryStore : IX8TokenStore, IX8TokenStoreLock
        {
            private readonly Dictionary<string, string> records = new Dictionary<string, string>();
            private readonly HashSet<string> locks = new HashSet<string>();
            internal int Locks, Unlocks;
            internal bool Broken;

            public string Load(string key)
            {
                lock (this)
                {
                    if (Broken) throw new IOException("the store is down");
                    string r;
                    return records.TryGetValue(key, out r) ? r : null;
                }
            }

            public void Store(string key, string record, TimeSpan ttl)
            {
                lock (this)
                {
                    if (Broken) throw new IOException("the store is down");
                    Assert.Greater(ttl, TimeSpan.Zero);
                    records[key] = record;
                }
            }

            public void Remove(string key, string record)
            {
                lock (this)
                {
                    string r;
                    if (records.TryGetValue(key, out r) && r == record)
                        records.Remove(key);
                }
            }

            public bool TryLock(string key, TimeSpan ttl)
            {
                lock (this)
                {
                    if (Broken) throw new IOException("the store is down");
                    Locks++;
                    return locks.Add(key);
                }
            }

            public void Unlock(string key)
            {
                lock (this)
                {
                    Unlocks++;
                    locks.Remove(key);
                }
            }
        }

        private X8Client ClientWith(Action<X8ClientOptions> configure)
        {
            var options = emulator.Options();
            configure(options);
            return new X8Client(Emulator.ClientId, Emulator.Secret, options);
        }

        [Test]
        public void TwoClientsShareOneTokenThroughATokenStore()
        {
            var store = new MemoryStore();
            using (var first = ClientWith(o => o.TokenStore = store))
            using (var second = ClientWith(o => o.TokenStore = store))
            {
                Assert.AreEqual(first.GetAccessToken(), second.GetAccessToken());
                Assert.AreEqual(1, emulator.Stat("tokens_issued"));
                var stats = second.GetStats();
                Assert.AreEqual(1, stats.StoreHits);
                Assert.AreEqual(0, stats.StoreErrors);
                Assert.AreEqual(1, store.Locks, "the lock was taken around the one fetch");
                Assert.AreEqual(1, store.Unlocks);
            }
        }

        [Test]
        public void ABrokenTokenStoreNeverFailsACall()
        {
            var store = new MemoryStore { Broken = true };
            using (var client = ClientWith(o => o.TokenStore = store))
            {
                Assert.IsNotEmpty(client.GetAccessToken());
                Assert.Greater(client.GetStats().StoreErrors, 0);
            }
        }

        [Test]
        public void TwoClientsShareOneTokenThroughTheCacheFile()
        {
            var dir = Path.Combine(Path.GetTempPath(), "x8-dotnet-" + Guid.NewGuid().ToString("N"));
            try
            {
                using (var first = ClientWith(o => o.TokenCache = dir))
                using (var second = ClientWith(o => o.TokenCache = dir))
                {
                    Assert.AreEqual(first.GetAccessToken(), second.GetAccessToken());
                    Assert.AreEqual(1, second.GetStats().StoreHits);
                    Assert.AreEqual(1, emulator.Stat("tokens_issued"));
                }
            }
            finally
            {
                if (Directory.Exists(dir))
                    Directory.Delete(dir, true);
            }
        }

        [Test]
        public void ABadRedisUrlIsAConfigError()
        {
            var e = Assert.Throws<X8Exception>(() => ClientWith(o => o.RedisUrl = "nonsense").Dispose());
            Assert.AreEqual(X8Status.Config, e.Status);
        }

        [Test]
        public void OnlyOneSharedStoreMayBeSet()
        {
            Assert.Throws<ArgumentException>(() => ClientWith(o => { o.TokenCache = "/tmp/x"; o.RedisUrl = "redis://h"; }).Dispose());
        }

        [Test]
        public void InvalidateTokenDropsOnlyTheRejectedToken()
        {
            using (var client = emulator.NewClient())
            {
                var old = client.GetAccessToken();
                Assert.IsFalse(client.InvalidateToken("not-the-current-token"));
                Assert.IsTrue(client.InvalidateToken(old));
                Assert.AreNotEqual(old, client.GetAccessToken());
            }
        }

        [Test]
        public void HasProductAsksTheCurrentToken()
        {
            using (var client = emulator.NewClient())
            {
                Assert.IsTrue(client.HasProduct("Analytics Realtime-API"));
                Assert.IsFalse(client.HasProduct("analytics"));
            }
        }
    }
}
