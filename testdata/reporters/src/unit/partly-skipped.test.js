test('runs', () => { expect([1, 2]).toHaveLength(2); });
test.skip('not today', () => { expect(true).toBe(false); });
