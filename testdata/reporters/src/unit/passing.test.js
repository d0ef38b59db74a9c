describe('passing', () => {
  test('adds', () => { expect(1 + 1).toBe(2); });
  test('concatenates', () => { expect('a' + 'b').toBe('ab'); });
});
