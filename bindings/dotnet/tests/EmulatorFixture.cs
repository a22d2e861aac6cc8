// The fixture most test classes share: one emulator per class, counters zeroed before each test.

using NUnit.Framework;

namespace X8.Tests
{
    public abstract class EmulatorFixture
    {
        /// <summary>The emulator this class's tests run against.</summary>
        protected Emulator emulator;

        [TestFixtureSetUp]
        public void StartEmulator()
        {
            emulator = new Emulator();
        }

        [TestFixtureTearDown]
        public void StopEmulator()
        {
            if (emulator != null)
                emulator.Dispose();
        }

        [SetUp]
        public void ResetCounters()
        {
            emulator.Reset();
        }
    }
}
