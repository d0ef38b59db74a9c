describe('failing', () => {
  test('holds', () => { expect(true).toBe(true); });
  test('breaks', () => { expect(1 + 1).toBe(3); });
});
