export interface LabCA { dir: string; cert: string; key: string }
export function makeCA(dir: string, o?: { cn?: string; keyType?: 'ec' | 'rsa' | 'rsa1024' }): Promise<LabCA>;
export function issueCert(ca: LabCA, name: string, o: {
  cn: string; sans?: string[]; notBefore?: Date; notAfter?: Date; keyType?: 'ec' | 'rsa' | 'rsa1024';
  selfSigned?: boolean; md?: string; outDir?: string;
}): Promise<{ cert: string; key: string }>;
export function makeSubCA(parent: LabCA, dir: string, o?: { cn?: string; keyType?: 'ec' | 'rsa' | 'rsa1024'; notBefore?: Date; notAfter?: Date }): Promise<LabCA>;
