# A password settings object (PSO) with no lockout threshold, for accounts the Kerberos tests and
# the verify-kdc benchmark send wrong passwords to (or log on with thousands of times): they can
# never lock. Imported by test/integration/protocols/kerberos/lab.ts and bench/verify-kdc.mjs
# (python3 with this folder on sys.path), on a SamDB opened through the DC's smb.conf.
import ldb


def no_lockout_pso(db, base, name, applies_to, precedence):
    """(Re)create CN=<name> in the Password Settings Container, applying to the DNs in applies_to."""
    pso = 'CN=%s,CN=Password Settings Container,CN=System,%s' % (name, base)
    try:
        db.delete(pso)
    except ldb.LdbError:
        pass
    span = str(-10 * 86400 * 10000000)
    db.add({'dn': pso, 'objectClass': 'msDS-PasswordSettings', 'msDS-PasswordSettingsPrecedence': str(precedence),
            'msDS-PasswordReversibleEncryptionEnabled': 'FALSE', 'msDS-PasswordHistoryLength': '0',
            'msDS-PasswordComplexityEnabled': 'FALSE', 'msDS-MinimumPasswordLength': '0', 'msDS-MinimumPasswordAge': '0',
            'msDS-MaximumPasswordAge': str(-42 * 864000000000), 'msDS-LockoutThreshold': '0',
            'msDS-LockoutObservationWindow': span, 'msDS-LockoutDuration': span, 'msDS-PSOAppliesTo': applies_to})
    return pso
