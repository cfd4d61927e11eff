/** The state of the emulated Alibaba Cloud account, and the error each state answers with. */

export const ACCOUNT_STATES = ['active', 'not-activated', 'in-arrears'] as const;
export type AccountState = (typeof ACCOUNT_STATES)[number];

export function accountError(
  state: AccountState,
): 'OperationDenied' | 'OperationDenied.Suspended' | undefined {
  switch (state) {
    case 'active':
      return undefined;
    case 'not-activated':
      return 'OperationDenied';
    case 'in-arrears':
      return 'OperationDenied.Suspended';
  }
}
