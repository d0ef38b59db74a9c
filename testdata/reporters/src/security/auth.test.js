describe('auth', () => {
  test('rejects a wrong token', () => { expect('wrong' === 'right').toBe(false); });
  test('accepts the right token', () => { expect('right').toBe('right'); });
  test('compares in constant time', () => { expect(typeof 'x'.localeCompare).toBe('function'); });
});
