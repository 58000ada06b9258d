import ISMAccess
