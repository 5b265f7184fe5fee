"""The keyboard: Ctrl+Enter (⌘+Enter on a Mac) computes from any input of the calculator, the Check tab or the
confusion matrix (it presses the button of the inputs: the confusion matrix's masks have their own); Enter in
the claimed-answer box of the calculator or the confusion matrix computes and checks the claim (the Check tab's
claimed box checks on Enter through its own submit event)."""

from __future__ import annotations

# the inputs' container -> its button (the innermost container wins); a one-line box -> the button its Enter presses
KEYBOARD_JS = """() => {
  const buttons = {'la-conf-masks': '#la-conf-from-masks', 'la-tab-calculator': '#la-compute',
                   'la-tab-check': '#la-check-button', 'la-tab-confusion': '#la-conf-compute'};
  const enter = {'la-claimed': '#la-compute', 'la-conf-claimed': '#la-conf-compute'};
  const press = (selector, event) => {
    const button = document.querySelector(selector);
    if (!button || button.disabled || button.offsetParent === null) return;
    event.preventDefault();
    event.stopPropagation();
    button.click();
  };
  document.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter' || event.isComposing || !(event.target instanceof Element)) return;
    if (event.ctrlKey || event.metaKey) {
      const panel = event.target.closest(Object.keys(buttons).map((id) => '#' + id).join(', '));
      if (panel) press(buttons[panel.id], event);
      return;
    }
    if (event.shiftKey || event.altKey || event.target.tagName === 'TEXTAREA' && event.target.rows > 1) return;
    const box = event.target.closest(Object.keys(enter).map((id) => '#' + id).join(', '));
    if (box) press(enter[box.id], event);
  }, true);
}"""
